package io.galore4j.galore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.Buffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code residual: fira} (Fira, docs/design.md §3) against a double-precision reference written
 * here from the formulas: R = PᵀG (left) or GP (right), N = ψ(R) Adam's update of R, E = G − PR
 * (or G − RPᵀ), φ_j = ‖N_j‖/‖R_j‖ per column of R (left) or row (right), S = φ∘E limited to
 * growth 1.01, W ← W − η(α·PN + S + λW). The basis is read from the optimizer's projector.
 */
class FiraStepTest {
    private static final double LR = 0.01;
    private static final double WD = 0.1;
    private static final double ALPHA = 0.25;
    private static final int RANK = 2;
    private static final int STEPS = 5;

    private static OptimSettings settings(String residual) {
        return settings(residual, 32);
    }

    private static OptimSettings settings(String residual, int basisBits) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("basis_bits", basisBits);
        s.put("method", residual == null ? "fira" : "galore");
        s.put("projection", "w");
        s.put("rank", RANK);
        s.put("refresh_gap", 2); // refreshes at steps 0, 2, 4
        s.put("weight_decay", WD);
        if (residual != null) {
            s.put("residual", residual);
        }
        return OptimSettings.from(s);
    }

    /** Step t's gradient, growing by 1.5 per step so that the limiter has to act. */
    private static float[] gradient(int t, int size) {
        return TestArrays.gaussian(new Random(100 + t), size, 0.5 * Math.pow(1.5, t));
    }

    @ParameterizedTest(name = "{0}x{1}, basis bits {2}")
    @CsvSource({"8, 6, 32", "6, 8, 32", "8, 6, 4"})
    void stepsMatchFloat64Reference(int m, int n, int basisBits) {
        float[] w0 = TestArrays.gaussian(new Random(7), m * n, 1.0);
        boolean left = m < n;
        int d = left ? m : n;
        Reference ref = new Reference(w0, m, n);
        Reference galoreOnly = new Reference(w0, m, n);
        try (LayerwiseOptimizer opt = LayerwiseOptimizer.create(settings(null, basisBits), 1)) {
            opt.add("w", TestArrays.matrix(w0, m, n));
            for (int t = 0; t < STEPS; t++) {
                float[] g = gradient(t, m * n);
                opt.update("w", TestArrays.matrix(g, m, n), LR, 1.0);
                opt.endStep();
                INDArray pt = opt.galore("w").projector().basisTransposed();
                double[][] p = new double[d][RANK];
                for (int k = 0; k < RANK; k++) {
                    for (int i = 0; i < d; i++) {
                        p[i][k] = pt.getDouble(k, i);
                    }
                }
                ref.step(g, p, true);
                galoreOnly.step(g, p, false);
                float[] actual = TestArrays.values(opt.weight("w"));
                double err = TestArrays.relativeError(actual, ref.w);
                assertTrue(err <= 1e-6, "step " + t + ": relative error " + err);
                assertTrue(TestArrays.relativeError(actual, galoreOnly.w) > 1e-3, "the residual changes the step");
            }
            assertEquals(3, opt.svdCount());
        }
        assertTrue(ref.limiter.limited >= 2, "the limiter acted on " + ref.limiter.limited + " of " + STEPS + " steps");
    }

    @Test
    void aRestoredOptimizerContinuesBitForBit() {
        int m = 8;
        int n = 6;
        float[] w0 = TestArrays.gaussian(new Random(3), m * n, 1.0);
        try (LayerwiseOptimizer straight = LayerwiseOptimizer.create(settings(null), 5);
                LayerwiseOptimizer first = LayerwiseOptimizer.create(settings(null), 5);
                LayerwiseOptimizer resumed = LayerwiseOptimizer.create(settings(null), 5);
                LayerwiseOptimizer noLimiter = LayerwiseOptimizer.create(settings(null), 5)) {
            for (LayerwiseOptimizer o : new LayerwiseOptimizer[] {straight, first, resumed, noLimiter}) {
                o.add("w", TestArrays.matrix(w0, m, n));
            }
            for (int t = 0; t < STEPS; t++) {
                straight.update("w", TestArrays.matrix(gradient(t, m * n), m, n), LR, 1.0);
                straight.endStep();
            }
            for (int t = 0; t < 3; t++) {
                first.update("w", TestArrays.matrix(gradient(t, m * n), m, n), LR, 1.0);
                first.endStep();
            }
            Map<String, Buffer> views = new LinkedHashMap<>();
            Map<String, Object> json = first.saveState(views::put);
            Map<String, Buffer> saved = StateSnapshot.copy(views);
            assertEquals(saved.keySet(), resumed.loadState(json, saved::get));
            for (int t = 3; t < STEPS; t++) {
                resumed.update("w", TestArrays.matrix(gradient(t, m * n), m, n), LR, 1.0);
                resumed.endStep();
            }
            assertArrayEquals(TestArrays.values(straight.weight("w")), TestArrays.values(resumed.weight("w")));
            String text = json.toString();
            assertTrue(text.contains("residual_limiter"), text);
            Map<String, Object> stripped = strip(json);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> noLimiter.loadState(stripped, saved::get));
            assertTrue(e.getMessage().contains("norm-growth limiter"), e.getMessage());
        }
    }

    /** The state with every {@code residual_limiter} entry removed. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> strip(Map<String, ?> state) {
        Map<String, Object> out = new LinkedHashMap<>();
        state.forEach((k, v) -> {
            if (!k.equals("residual_limiter")) {
                out.put(k, v instanceof Map<?, ?> mv ? strip((Map<String, ?>) mv) : v);
            }
        });
        return out;
    }

    @Test
    void residualNoneLeavesGaloreBitIdentical() {
        int m = 8;
        int n = 6;
        float[] w0 = TestArrays.gaussian(new Random(11), m * n, 1.0);
        try (LayerwiseOptimizer plain = LayerwiseOptimizer.create(settings("none"), 2);
                LayerwiseOptimizer today = LayerwiseOptimizer.create(OptimSettings.from(Map.of("method", "galore",
                        "projection", "w", "rank", RANK, "refresh_gap", 2, "weight_decay", WD)), 2)) {
            plain.add("w", TestArrays.matrix(w0, m, n));
            today.add("w", TestArrays.matrix(w0, m, n));
            for (int t = 0; t < STEPS; t++) {
                plain.update("w", TestArrays.matrix(gradient(t, m * n), m, n), LR, 1.0);
                today.update("w", TestArrays.matrix(gradient(t, m * n), m, n), LR, 1.0);
                plain.endStep();
                today.endStep();
            }
            assertArrayEquals(TestArrays.values(today.weight("w")), TestArrays.values(plain.weight("w")));
            assertEquals(today.effectiveSettings().get("w").toMap(), plain.effectiveSettings().get("w").toMap());
            assertFalse(today.effectiveSettings().get("w").toMap().containsKey("residual"));
            assertEquals("fira", OptimSettings.preset("fira").resolve(
                    "model.layers.0.mlp.up_proj.weight", new long[] {64, 128}).toMap().get("residual"));
        }
    }

    /**
     * Accumulation sums the full gradient and the basis is refreshed from the step's sum, so two
     * micro-batches give the very bits of one update given their sum.
     */
    @Test
    void accumulatedMicroBatchesEqualOneUpdateWithTheirSum() {
        int m = 8;
        int n = 6;
        float[] w0 = TestArrays.gaussian(new Random(7), m * n, 1.0);
        try (LayerwiseOptimizer micro = LayerwiseOptimizer.create(settings(null), 1);
             LayerwiseOptimizer whole = LayerwiseOptimizer.create(settings(null), 1)) {
            micro.add("w", TestArrays.matrix(w0, m, n));
            whole.add("w", TestArrays.matrix(w0, m, n));
            for (int t = 0; t < STEPS; t++) {
                float[] a = gradient(t, m * n);
                float[] b = gradient(t + 50, m * n);
                float[] sum = new float[m * n];
                for (int i = 0; i < sum.length; i++) {
                    sum[i] = b[i] + a[i];
                }
                micro.accumulate("w", TestArrays.matrix(a, m, n));
                micro.update("w", TestArrays.matrix(b, m, n), LR, 0.5);
                micro.endStep();
                whole.update("w", TestArrays.matrix(sum, m, n), LR, 0.5);
                whole.endStep();
                assertArrayEquals(TestArrays.values(whole.weight("w")), TestArrays.values(micro.weight("w")), "step " + t);
            }
            assertEquals(3, micro.galore("w").svdCount(), "refreshes at steps 0, 2, 4");
        }
    }

    @Test
    void apolloScalingAndTheFiraResidualExcludeEachOther() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("method", "apollo");
        s.put("projection", "w");
        s.put("rank", RANK);
        s.put("residual", "fira");
        try (LayerwiseOptimizer opt = LayerwiseOptimizer.create(OptimSettings.from(s), 1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> opt.add("w", TestArrays.matrix(new float[48], 8, 6)));
            assertEquals("parameter w: optim.residual fira adds to GaLore's update, not to optim.scaling channel (APOLLO);"
                    + " set one of them to none", e.getMessage());
        }
    }

    /** The float64 step with or without the residual (GaLore's step alone). */
    private static final class Reference {
        final int m;
        final int n;
        final boolean left;
        final double[] w;
        double[] mom;
        double[] vel;
        int t;
        final Float64Limiter limiter = new Float64Limiter();

        Reference(float[] w0, int m, int n) {
            this.m = m;
            this.n = n;
            this.left = m < n;
            this.w = new double[w0.length];
            for (int i = 0; i < w0.length; i++) {
                w[i] = w0[i];
            }
        }

        void step(float[] g, double[][] p, boolean fira) {
            int rr = left ? RANK : m;
            int rc = left ? n : RANK;
            double[] r = new double[rr * rc];
            for (int i = 0; i < rr; i++) {
                for (int j = 0; j < rc; j++) {
                    double s = 0;
                    for (int k = 0; k < (left ? m : n); k++) {
                        s += left ? p[k][i] * g[k * n + j] : g[i * n + k] * p[k][j];
                    }
                    r[i * rc + j] = s;
                }
            }
            if (mom == null) {
                mom = new double[r.length];
                vel = new double[r.length];
            }
            t++;
            double[] nn = new double[r.length];
            for (int k = 0; k < r.length; k++) {
                mom[k] = 0.9 * mom[k] + 0.1 * r[k];
                vel[k] = 0.999 * vel[k] + 0.001 * r[k] * r[k];
                nn[k] = mom[k] / (1 - Math.pow(0.9, t)) / (Math.sqrt(vel[k] / (1 - Math.pow(0.999, t))) + 1e-8);
            }
            double[] low = backProjected(p, nn, rc);
            double[] back = backProjected(p, r, rc);
            int slices = left ? n : m;
            double[] rNorm = new double[slices];
            double[] nNorm = new double[slices];
            for (int i = 0; i < rr; i++) {
                for (int j = 0; j < rc; j++) {
                    int s = left ? j : i;
                    rNorm[s] += r[i * rc + j] * r[i * rc + j];
                    nNorm[s] += nn[i * rc + j] * nn[i * rc + j];
                }
            }
            double[] scaled = new double[m * n];
            double norm = 0;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    int s = left ? j : i;
                    double phi = rNorm[s] > 0 ? Math.sqrt(nNorm[s]) / Math.sqrt(rNorm[s]) : 0;
                    scaled[i * n + j] = phi * (g[i * n + j] - back[i * n + j]);
                    norm += scaled[i * n + j] * scaled[i * n + j];
                }
            }
            norm = Math.sqrt(norm);
            double f = limiter.factor(norm);
            for (int k = 0; k < w.length; k++) {
                double dw = ALPHA * low[k] + (fira ? f * scaled[k] : 0);
                w[k] -= LR * (dw + WD * w[k]);
            }
        }

        /** P X (left) or X Pᵀ (right) of a projected array with {@code rc} columns, m×n. */
        private double[] backProjected(double[][] p, double[] x, int rc) {
            double[] out = new double[m * n];
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int k = 0; k < RANK; k++) {
                        s += left ? p[i][k] * x[k * rc + j] : x[i * rc + k] * p[j][k];
                    }
                    out[i * n + j] = s;
                }
            }
            return out;
        }
    }
}
