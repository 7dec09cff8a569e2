package io.galore4j.galore;

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
 * QZO's parts on a model-free loss (DESIGN.md §3): z regenerated from the step seed, the two-point
 * estimate, the clip to [−C, C] and the floor of Δ. The LLaMA-model checks are in the trainer's
 * QzoModelTest.
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
            double a = 1e-4;
            w.perturb(seed, a);
            double[] plus = values(w.weight(W));
            assertArrayEquals(plus, values(w.weight(W)), 0.0, "decoding twice gives the same values");
            Perturbation z = Perturbation.of(seed, w.index(W));
            SymmetricCodes codes = w.codes(W);
            for (int g = 0; g < delta.length; g++) {
                double zg = z.next();
                for (int i = g * 16; i < Math.min(120, (g + 1) * 16); i++) {
                    assertEquals((double) delta[g] * codes.code(i), base[i], 0.0); // W = Δ q, in double
                    assertEquals((delta[g] + a * zg) * codes.code(i), plus[i], 0.0, "W = (Δ + a z) q at " + i);
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
     * L(W) = Σ c_i W_i² is quadratic in Δ, so the central two-point estimate equals the directional
     * derivative zᵀ∇_Δ L = Σ_g z_g Σ_{i∈g} q_i · 2 c_i W_i exactly, up to rounding (relative 1e-9).
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
                double exact = 0;
                for (int g = 0; g < codes.groupCount(); g++) {
                    double zg = z.next();
                    for (int i = g * 16; i < Math.min(120, (g + 1) * 16); i++) {
                        exact += zg * codes.code(i) * 2 * c[i] * base[i];
                    }
                }
                double estimate = qzo.estimate(seed, loss);
                assertEquals(exact, estimate, 1e-9 * Math.abs(exact), "seed " + seed);
            }
        }
    }

    @Test
    void theDerivativeIsClippedAndEveryScaleStaysAboveTheFloor() {
        try (QzoWeights w = weights(8, DataType.FLOAT, 40, 40)) { // 100 groups, Δ about 1e-3
            float[] before = w.scales(W);
            double floor = 1e-4;
            double clip = 2.0;
            double lr = 4e-4; // η·C = 8e-4: the groups with z_g beyond about ±1 would drop below the floor
            // a steep linear loss: its estimate (about 1e4) is far beyond the clip bound
            DoubleSupplier loss = () -> 1e4 * w.weight(W).sumNumber().doubleValue();
            Qzo qzo = new Qzo(w, new QzoSettings(1e-4, clip, lr, floor, 8, 16), 11);
            Qzo.Step s = qzo.step(loss, lr);
            assertTrue(Math.abs(s.estimate()) > 10 * clip, "estimate " + s.estimate());
            assertEquals(Math.copySign(clip, s.estimate()), s.derivative(), 0.0, "d = clip(estimate, −C, C)");
            float[] after = w.scales(W);
            Perturbation z = Perturbation.of(s.seed(), w.index(W));
            int floored = 0;
            for (int g = 0; g < after.length; g++) {
                double expected = Math.max(before[g] - lr * s.derivative() * z.next(), floor); // max(Δ − η d z, floor)
                assertTrue(after[g] >= floor, "Δ_" + g + " = " + after[g]);
                assertEquals((float) expected, after[g], Math.ulp((float) floor), "Δ_" + g);
                floored += expected == floor ? 1 : 0;
            }
            assertTrue(floored > 0 && floored < after.length, floored + " of " + after.length + " floored");
            assertEquals(floored, s.floored());
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
        String[] keys = {"qzo.eps", "qzo.clip", "qzo.lr", "qzo.min_scale", "qzo.bits", "qzo.group_size"};
        Runnable[] bad = {
            () -> new QzoSettings(0, 1, 1, 1e-6, 8, 256),
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
