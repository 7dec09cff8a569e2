package io.galore4j.galore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * APOLLO, APOLLO-Mini and Q-APOLLO-Mini steps (docs/design.md §3) against a double-precision
 * reference written from the paper's equations: R = P G or G Pᵀ with P the parameter's random
 * projection of generation ⌊t / gap⌋, Adam on R, s = ‖R̃‖ / (‖R‖ + 10⁻⁸) per channel (the larger
 * dimension) or per matrix, S = α s ⊙ G, the norm-growth limiter (γ = 1.01), W ← W − η(S + λW).
 */
class ApolloStepTest {
    private static final String W = "w";
    private static final double B1 = 0.9;
    private static final double B2 = 0.999;
    private static final double EPS = 1e-8;

    /** The float64 reference of one parameter. */
    private static final class Reference {
        final int m;
        final int n;
        final int rank;
        final boolean left;
        final boolean tensor;
        final double alpha;
        final long seed;
        final int gap;
        final double[] w;
        double[] mom;
        double[] vel;
        int t;
        final Float64Limiter limiter = new Float64Limiter();

        Reference(float[] w0, int m, int n, int rank, boolean tensor, double alpha, long seed, int gap) {
            this.m = m;
            this.n = n;
            this.rank = rank;
            this.left = m < n;
            this.tensor = tensor;
            this.alpha = alpha;
            this.seed = seed;
            this.gap = gap;
            this.w = new double[w0.length];
            for (int i = 0; i < w.length; i++) {
                w[i] = w0[i];
            }
            int rn = rank * (left ? n : m);
            mom = new double[rn];
            vel = new double[rn];
        }

        void step(float[] g, double lr, double wd) {
            int d = left ? m : n;
            float[] p = ApolloParam.projection(seed, t / gap, rank, d);
            int rr = left ? rank : m;
            int rc = left ? n : rank;
            double[] r = new double[rr * rc];
            for (int i = 0; i < rr; i++) {
                for (int j = 0; j < rc; j++) {
                    double sum = 0;
                    for (int k = 0; k < d; k++) {
                        sum += left ? p[i * d + k] * (double) g[k * n + j] : g[i * n + k] * (double) p[j * d + k];
                    }
                    r[i * rc + j] = sum;
                }
            }
            t++;
            int channels = tensor ? 1 : left ? n : m;
            double[] rNorm = new double[channels];
            double[] nNorm = new double[channels];
            for (int i = 0; i < r.length; i++) {
                mom[i] = B1 * mom[i] + (1 - B1) * r[i];
                vel[i] = B2 * vel[i] + (1 - B2) * r[i] * r[i];
                double u = mom[i] / (1 - Math.pow(B1, t)) / (Math.sqrt(vel[i] / (1 - Math.pow(B2, t))) + EPS);
                int c = tensor ? 0 : left ? i % rc : i / rc;
                rNorm[c] += r[i] * r[i];
                nNorm[c] += u * u;
            }
            double[] s = new double[channels];
            for (int c = 0; c < channels; c++) {
                s[c] = alpha * Math.sqrt(nNorm[c]) / (Math.sqrt(rNorm[c]) + 1e-8);
            }
            double[] upd = new double[w.length];
            double norm = 0;
            for (int i = 0; i < w.length; i++) {
                upd[i] = s[tensor ? 0 : left ? i % n : i / n] * g[i];
                norm += upd[i] * upd[i];
            }
            norm = Math.sqrt(norm);
            double f = limiter.factor(norm);
            for (int i = 0; i < w.length; i++) {
                w[i] = w[i] - lr * f * upd[i] - lr * wd * w[i];
            }
        }
    }

    private static OptimSettings settings(String method, int rank) {
        Map<String, Object> o = new HashMap<>(Map.of("method", method, "projection", W, "weight_decay", 0.1,
                "refresh_gap", 2));
        if (rank > 0) {
            o.put("rank", rank);
        }
        return OptimSettings.from(o);
    }

    /** Five gradients: the second cancels the first (a small update), so the third's growth is limited. */
    private static float[][] gradients(Random rnd, int len) {
        float[][] g = new float[5][];
        for (int k = 0; k < 5; k++) {
            g[k] = TestArrays.gaussian(rnd, len, 0.5);
        }
        for (int i = 0; i < len; i++) {
            g[1][i] = -g[0][i];
        }
        return g;
    }

    @ParameterizedTest(name = "{0} {1}x{2} rank {3}")
    @CsvSource({"apollo, 6, 4, 2", "apollo, 4, 6, 2", "apollo-mini, 6, 4, 1", "apollo-mini, 4, 6, 1"})
    void stepsMatchTheFloat64Reference(String method, int m, int n, int rank) {
        Random rnd = new Random(11);
        float[] w0 = TestArrays.gaussian(rnd, m * n, 1.0);
        OptimSettings s = settings(method, rank);
        ParamSettings p = s.resolve(W, new long[] {m, n});
        double lr = 0.01;
        try (LayerwiseOptimizer opt = LayerwiseOptimizer.create(s, 5)) {
            opt.add(W, TestArrays.matrix(w0, m, n));
            Reference ref = new Reference(w0, m, n, rank, p.scaling() == Scaling.TENSOR, p.scale(), 5 ^ W.hashCode(), 2);
            for (float[] g : gradients(rnd, m * n)) {
                opt.update(W, TestArrays.matrix(g, m, n), lr, 1.0);
                opt.endStep();
                ref.step(g, lr, 0.1);
                double err = TestArrays.relativeError(TestArrays.values(opt.weight(W)), ref.w);
                assertTrue(err <= 1e-6, "step " + ref.t + ": relative error " + err);
            }
            assertTrue(ref.limiter.limited > 0, "the norm-growth limiter acted");
            Map<?, ?> saved = (Map<?, ?>) ((Map<?, ?>) StateSnapshot.of(opt).json().get("params")).get(W);
            assertEquals(3L, saved.get("projection_draws"), "generations 0, 1, 2 in five steps, gap 2");
            List<io.galore4j.projection.SubspaceStats> events = opt.drainRefreshEvents();
            assertEquals(List.of(0L, 2L, 4L), events.stream().map(io.galore4j.projection.SubspaceStats::step).toList(),
                    "one event per generation of P");
            for (io.galore4j.projection.SubspaceStats e : events) {
                assertFalse(e.hasPrevious(), "no subspace to compare with");
                assertEquals(0, e.singularValues().length);
                assertEquals(2, e.gap());
                assertTrue(e.energy() > 0 && Double.isFinite(e.energy()), "‖PG‖²/‖G‖²: " + e.energy());
            }
        }
    }

    @Test
    void theProjectionIsAFunctionOfSeedAndGeneration() {
        float[] a = ApolloParam.projection(42, 3, 2, 6);
        assertArrayEquals(a, ApolloParam.projection(42, 3, 2, 6));
        assertFalse(java.util.Arrays.equals(a, ApolloParam.projection(42, 4, 2, 6)), "a new generation");
        assertFalse(java.util.Arrays.equals(a, ApolloParam.projection(43, 3, 2, 6)), "another seed");
        double sq = 0;
        float[] big = ApolloParam.projection(1, 0, 4, 5000);
        for (float x : big) {
            sq += x * x;
        }
        assertEquals(0.25, sq / big.length, 0.01, "variance 1/rank");
    }

    @Test
    void accumulatedMicroBatchesEqualTheirScaledSum() {
        Random rnd = new Random(3);
        float[] w0 = TestArrays.gaussian(rnd, 24, 1.0);
        OptimSettings s = settings("apollo", 2);
        try (LayerwiseOptimizer a = LayerwiseOptimizer.create(s, 1); LayerwiseOptimizer b = LayerwiseOptimizer.create(s, 1)) {
            a.add(W, TestArrays.matrix(w0, 6, 4));
            b.add(W, TestArrays.matrix(w0, 6, 4));
            for (int step = 0; step < 3; step++) {
                float[] g1 = TestArrays.gaussian(rnd, 24, 0.5);
                float[] g2 = TestArrays.gaussian(rnd, 24, 0.5);
                float[] sum = new float[24];
                for (int i = 0; i < 24; i++) {
                    sum[i] = (g2[i] + g1[i]) * 0.5f;
                }
                a.accumulate(W, TestArrays.matrix(g1, 6, 4));
                a.update(W, TestArrays.matrix(g2, 6, 4), 0.01, 0.5);
                a.endStep();
                b.update(W, TestArrays.matrix(sum, 6, 4), 0.01, 1.0);
                b.endStep();
            }
            StateSnapshot.of(a).assertSameAs(StateSnapshot.of(b), "accumulated vs summed");
        }
    }

    /** Five steps uninterrupted equal three, a checkpoint into a new optimizer, and two more, bit for bit. */
    @ParameterizedTest
    @ValueSource(strings = {"apollo", "apollo-mini", "q-apollo-mini"})
    void resumeIsBitExact(String method) {
        OptimSettings s = settings(method, method.equals("apollo") ? 2 : 0);
        Random rnd = new Random(9);
        float[] w0 = TestArrays.gaussian(rnd, 24, 1.0);
        float[] b0 = TestArrays.gaussian(rnd, 4, 1.0);
        float[][] g = gradients(rnd, 24);
        float[][] gb = gradients(rnd, 4);
        try (LayerwiseOptimizer whole = LayerwiseOptimizer.create(s, 2); LayerwiseOptimizer first = LayerwiseOptimizer.create(s, 2);
             LayerwiseOptimizer resumed = LayerwiseOptimizer.create(s, 2)) {
            for (LayerwiseOptimizer o : List.of(whole, first, resumed)) {
                o.add(W, TestArrays.matrix(w0, 6, 4));
                o.add("bias", vector(b0));
            }
            for (int k = 0; k < 5; k++) {
                step(whole, g[k], gb[k]);
                if (k < 3) {
                    step(first, g[k], gb[k]);
                }
            }
            StateSnapshot saved = StateSnapshot.of(first);
            resumed.loadState(saved.json(), saved.tensors()::get);
            StateSnapshot.of(resumed).assertSameAs(saved, "restored");
            for (int k = 3; k < 5; k++) {
                step(resumed, g[k], gb[k]);
            }
            StateSnapshot.of(resumed).assertSameAs(StateSnapshot.of(whole), method + " resumed after 3 of 5 steps");
            assertEquals(method.equals("q-apollo-mini") ? "int8" : "fp32", whole.effectiveSettings().get(W).toMap().get("weights"));
        }
    }

    private static org.nd4j.linalg.api.ndarray.INDArray vector(float[] v) {
        return org.nd4j.linalg.factory.Nd4j.create(v.clone(), new long[] {v.length}, 'c');
    }

    private static void step(LayerwiseOptimizer o, float[] g, float[] gb) {
        o.update(W, TestArrays.matrix(g, 6, 4), 0.01, 1.0);
        o.update("bias", vector(gb), 0.01, 1.0);
        o.endStep();
    }

    @Test
    void aCheckpointOfAnotherSeedIsRefused() {
        OptimSettings s = settings("apollo", 2);
        try (LayerwiseOptimizer a = LayerwiseOptimizer.create(s, 1); LayerwiseOptimizer b = LayerwiseOptimizer.create(s, 2)) {
            a.add(W, TestArrays.matrix(new float[24], 6, 4));
            b.add(W, TestArrays.matrix(new float[24], 6, 4));
            StateSnapshot saved = StateSnapshot.of(a);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> b.loadState(saved.json(), saved.tensors()::get));
            assertTrue(e.getMessage().contains("projection_seed"), e.getMessage());
        }
    }

    @Test
    void theAccountHasNoBasisAndLowRankMoments() {
        OptimSettings s = settings("apollo", 2);
        MemoryAccount a = MemoryAccount.estimate(s, Map.of(W, new long[] {6, 40}), true);
        MemoryAccount.Row r = a.row(W);
        assertEquals(0, r.get(MemoryAccount.Component.BASIS));
        assertEquals(4L * 2 * 40, r.get(MemoryAccount.Component.M), "M is r×n");
        assertEquals(4L * 2 * 40, r.get(MemoryAccount.Component.V));
        assertEquals(4L * 240, r.get(MemoryAccount.Component.ACCUMULATION), "the full gradient is accumulated");
        assertEquals(0, a.projectionScratchBytes());
    }

    @Test
    void badSettingsAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OptimSettings.from(Map.of("method", "apollo", "refresh", "lazy")));
        assertTrue(e.getMessage().startsWith("optim.refresh must be fixed with scaling channel"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> OptimSettings.from(Map.of("method", "apollo", "scaling", "row")));
        assertTrue(e.getMessage().startsWith("optim.scaling must be one of [channel, none, tensor]"), e.getMessage());
    }
}
