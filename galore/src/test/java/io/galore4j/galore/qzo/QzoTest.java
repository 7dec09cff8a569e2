package io.galore4j.galore.qzo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.galore4j.quant.SymmetricCodes;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * QZO's parts on a model-free loss (docs/design.md §3): z regenerated from the step seed, the
 * perturbation and the update relative to each scale, the two-point estimate, the clip to [−C, C]
 * and the floor of Δ. The LLaMA-model checks are in the trainer's QzoModelTest.
 */
class QzoTest {

    private static final String W = "w";
    private static final String B = "b";

    private static INDArray matrix(int rows, int cols, long seed, DataType type) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = 0.05 * r.nextGaussian();
        }
        return Nd4j.create(v, new long[] {rows, cols}, type);
    }

    /** A vector and a 12×10 matrix: 120 elements, 7 full groups of 16 and one of 8. */
    private static QzoWeights weights(int bits, DataType type) {
        return weights(bits, type, 12, 10);
    }

    private static QzoWeights weights(int bits, DataType type, int rows, int cols) {
        QzoWeights w = new QzoWeights(bits, 16, type);
        w.add(B, Nd4j.ones(DataType.FLOAT, 8));
        w.add(W, matrix(rows, cols, 3, DataType.FLOAT));
        return w;
    }

    @Test
    void theSameSeedRegeneratesTheSameDirectionAndOtherSeedsOrParametersDiffer() {
        double[] a = draws(Perturbation.of(42, 1), 1000);
        assertArrayEquals(a, draws(Perturbation.of(42, 1), 1000), 0.0, "same seed and parameter: same z");
        assertFalse(java.util.Arrays.equals(a, draws(Perturbation.of(43, 1), 1000)), "another step seed");
        assertFalse(java.util.Arrays.equals(a, draws(Perturbation.of(42, 2), 1000)), "another parameter");
        // z ~ N(0, 1): mean and variance of 100,000 draws within 6 standard errors (0.019, 0.027)
        double[] big = draws(Perturbation.of(7, 0), 100_000);
        double mean = java.util.Arrays.stream(big).average().orElseThrow();
        double var = java.util.Arrays.stream(big).map(x -> (x - mean) * (x - mean)).sum() / (big.length - 1);
        assertEquals(0.0, mean, 0.019);
        assertEquals(1.0, var, 0.027);
    }

    @Test
    void decodingAtAPerturbationUsesTheRegeneratedDirectionAndLeavesDeltaUnchanged() {
        try (QzoWeights w = weights(8, DataType.DOUBLE)) {
            float[] delta = w.scales(W);
            double[] base = values(w.weight(W));
            long seed = 99;
            double a = 1e-3;
            w.perturb(seed, a);
            double[] plus = values(w.weight(W));
            assertArrayEquals(plus, values(w.weight(W)), 0.0, "decoding twice gives the same values");
            Perturbation z = Perturbation.of(seed, w.index(W));
            SymmetricCodes codes = w.codes(W);
            for (int g = 0; g < delta.length; g++) {
                double zg = z.next();
                for (int i = g * 16; i < Math.min(120, (g + 1) * 16); i++) {
                    assertEquals((double) delta[g] * codes.code(i), base[i], 0.0); // W = Δ q, in double
                    assertEquals((double) delta[g] * (1 + a * zg) * codes.code(i), plus[i], 0.0,
                            "W = Δ (1 + a z) q at " + i);
                }
            }
            w.perturb(seed, -a);
            double[] minus = values(w.weight(W));
            assertNotEquals(plus[0], minus[0]);
            assertArrayEquals(delta, w.scales(W), 0f, "perturbing never changes Δ");
            w.perturb(seed, 0);
            assertArrayEquals(base, values(w.weight(W)), 0.0);
            assertEquals(1.0, w.weight(B).getDouble(0), 0.0, "vectors stay frozen");
            assertEquals(8, w.trainableCount());
        }
    }

    /**
     * L(W) = Σ c_i W_i² is quadratic in Δ, so the central two-point estimate along Δ ⊙ (1 + tz)
     * equals its slope zᵀ(Δ ⊙ ∇_Δ L) = Σ_g z_g Δ_g Σ_{i∈g} q_i · 2 c_i W_i exactly, up to rounding
     * (relative 1e-9).
     */
    @Test
    void theTwoPointEstimateOfAQuadraticEqualsTheDirectionalDerivative() {
        try (QzoWeights w = weights(4, DataType.DOUBLE)) {
            double[] c = new double[120];
            SplittableRandom r = new SplittableRandom(5);
            for (int i = 0; i < c.length; i++) {
                c[i] = 1 + r.nextDouble();
            }
            DoubleSupplier loss = () -> {
                double[] v = values(w.weight(W));
                double s = 0;
                for (int i = 0; i < v.length; i++) {
                    s += c[i] * v[i] * v[i];
                }
                return s;
            };
            double[] base = values(w.weight(W));
            Qzo qzo = new Qzo(w, new QzoSettings(1e-3, 1e9, 1e-3, 1e-8, 4, 16), 1);
            for (long seed : new long[] {1, 2, 3}) {
                Perturbation z = Perturbation.of(seed, w.index(W));
                SymmetricCodes codes = w.codes(W);
                float[] delta = w.scales(W);
                double exact = 0;
                for (int g = 0; g < codes.groupCount(); g++) {
                    double zg = z.next();
                    for (int i = g * 16; i < Math.min(120, (g + 1) * 16); i++) {
                        exact += zg * delta[g] * codes.code(i) * 2 * c[i] * base[i];
                    }
                }
                double estimate = qzo.estimate(seed, loss);
                assertEquals(exact, estimate, 1e-9 * Math.abs(exact), "seed " + seed);
            }
        }
    }

    /**
     * One step against a plain reference on fixed inputs: the loss L(W) = Σ_i c_i·sin(7·W_i) (not
     * quadratic, so the central difference is not exact) computed by hand at W = Δ_g(1 ± εz_g)q_i,
     * then d = clip((L₊ − L₋)/(2ε), −C, C) and Δ_g ← max(Δ_g(1 − η d z_g), floor) in double,
     * rounded to fp32 as the scales are stored.
     */
    @Test
    void oneStepEqualsAPlainReferenceOfTheRelativeRule() {
        try (QzoWeights w = weights(8, DataType.DOUBLE)) {
            double[] c = new double[120];
            for (int i = 0; i < c.length; i++) {
                c[i] = 0.5 + (i % 7) * 0.25 - (i % 3) * 0.4;
            }
            DoubleSupplier loss = () -> {
                double[] v = values(w.weight(W));
                double l = 0;
                for (int i = 0; i < v.length; i++) {
                    l += c[i] * Math.sin(7 * v[i]);
                }
                return l;
            };
            double eps = 1e-3;
            double clip = 50;
            double lr = 2e-3;
            float[] delta = w.scales(W);
            Qzo qzo = new Qzo(w, new QzoSettings(eps, clip, lr, 1e-9, 8, 16), 5);
            Qzo.Step s = qzo.step(loss, lr);
            SymmetricCodes codes = w.codes(W);
            double[] z = draws(Perturbation.of(s.seed(), w.index(W)), delta.length);
            double plus = 0;
            double minus = 0;
            for (int i = 0; i < 120; i++) {
                int g = i / 16;
                plus += c[i] * Math.sin(7 * (delta[g] * (1 + eps * z[g]) * codes.code(i)));
                minus += c[i] * Math.sin(7 * (delta[g] * (1 - eps * z[g]) * codes.code(i)));
            }
            assertEquals(plus, s.lossPlus(), 1e-12);
            assertEquals(minus, s.lossMinus(), 1e-12);
            double estimate = (plus - minus) / (2 * eps);
            assertEquals(estimate, s.estimate(), 1e-9 * Math.abs(estimate));
            double d = Math.max(-clip, Math.min(clip, estimate));
            assertTrue(Math.abs(d) > 0.1 && Math.abs(d) < clip, "a slope inside the clip: " + d);
            assertEquals(d, s.derivative(), 1e-9 * Math.abs(d));
            float[] after = w.scales(W);
            for (int g = 0; g < delta.length; g++) {
                float expected = (float) Math.max(delta[g] * (1 - lr * d * z[g]), 1e-9);
                assertEquals(expected, after[g], Math.ulp(expected), "Δ_" + g);
                assertNotEquals(delta[g], after[g], "Δ_" + g + " moved");
            }
            assertEquals(0, s.floored());
        }
    }

    @Test
    void theDerivativeIsClippedAndEveryScaleStaysAboveTheFloor() {
        try (QzoWeights w = weights(8, DataType.FLOAT, 40, 40)) { // 100 groups, Δ about 1e-3
            float[] before = w.scales(W);
            float[] sorted = before.clone();
            java.util.Arrays.sort(sorted);
            double floor = sorted[sorted.length / 2]; // the median Δ: about half the groups end below it
            double clip = 2.0;
            double lr = 0.125; // η·C = 0.25: each Δ_g changes by the fraction ∓0.25·z_g
            // a steep linear loss: its estimate (about 1e4) is far beyond the clip bound
            DoubleSupplier loss = () -> 1e4 * w.weight(W).sumNumber().doubleValue();
            Qzo qzo = new Qzo(w, new QzoSettings(1e-3, clip, lr, floor, 8, 16), 11);
            Qzo.Step s = qzo.step(loss, lr);
            assertTrue(Math.abs(s.estimate()) > 10 * clip, "estimate " + s.estimate());
            assertEquals(Math.copySign(clip, s.estimate()), s.derivative(), 0.0, "d = clip(estimate, −C, C)");
            float[] after = w.scales(W);
            Perturbation z = Perturbation.of(s.seed(), w.index(W));
            int floored = 0;
            for (int g = 0; g < after.length; g++) {
                double expected = Math.max(before[g] * (1 - lr * s.derivative() * z.next()), floor); // max(Δ(1 − η d z), floor)
                assertTrue(after[g] >= floor, "Δ_" + g + " = " + after[g]);
                assertEquals((float) expected, after[g], Math.ulp(after[g]), "Δ_" + g);
                floored += expected == floor ? 1 : 0;
            }
            assertTrue(floored > 10 && floored < after.length - 10, floored + " of " + after.length + " floored");
            assertEquals(floored, s.floored());
        }
    }

    @Test
    void aCopyOfTheScalesRestoresThem() {
        try (QzoWeights w = weights(8, DataType.FLOAT)) {
            float[][] copy = w.copyScales();
            float[] before = w.scales(W);
            w.update(3, 0.1, 1e-9);
            assertFalse(java.util.Arrays.equals(before, w.scales(W)));
            w.restoreScales(copy);
            assertArrayEquals(before, w.scales(W), 0f);
            assertThrows(IllegalArgumentException.class, () -> w.restoreScales(new float[][] {new float[3]}));
        }
    }

    @Test
    void aNonFiniteLossSkipsTheUpdate() {
        try (QzoWeights w = weights(8, DataType.FLOAT)) {
            float[] before = w.scales(W);
            Qzo qzo = new Qzo(w, new QzoSettings(1e-4, 1, 1, 1e-6, 8, 16), 11);
            Qzo.Step s = qzo.step(() -> Double.NaN, 1);
            assertTrue(s.skipped());
            assertArrayEquals(before, w.scales(W), 0f);
        }
    }

    @Test
    void settingsNameTheBadKey() {
        String[] keys = {"qzo.eps", "qzo.eps", "qzo.clip", "qzo.lr", "qzo.min_scale", "qzo.bits", "qzo.group_size"};
        Runnable[] bad = {
            () -> new QzoSettings(0, 1, 1, 1e-6, 8, 256),
            () -> new QzoSettings(1, 1, 1, 1e-6, 8, 256),
            () -> new QzoSettings(1e-3, -1, 1, 1e-6, 8, 256),
            () -> new QzoSettings(1e-3, 1, Double.NaN, 1e-6, 8, 256),
            () -> new QzoSettings(1e-3, 1, 1, 0, 8, 256),
            () -> new QzoSettings(1e-3, 1, 1, 1e-6, 2, 256),
            () -> new QzoSettings(1e-3, 1, 1, 1e-6, 4, 3),
        };
        for (int i = 0; i < keys.length; i++) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, bad[i]::run);
            assertTrue(e.getMessage().startsWith(keys[i]), e.getMessage());
        }
    }

    /** The elements of {@code a} in row-major order. */
    private static double[] values(INDArray a) {
        return a.dup('c').data().asDouble(); // a fresh copy: its buffer holds exactly its elements
    }

    private static double[] draws(Perturbation p, int n) {
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = p.next();
        }
        return d;
    }
}
