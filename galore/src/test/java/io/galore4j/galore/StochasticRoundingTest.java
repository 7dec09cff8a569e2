package io.galore4j.galore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * INT8 weights (groups of 256) receiving updates smaller than half a quantization step: with
 * round-to-nearest every requantization returns the same codes, so the weight never moves; with
 * stochastic rounding (Q-GaLore) the weight moves by the update on average and the loss falls.
 * Each group's minimum and maximum are already at their target, so the group scale is fixed.
 */
class StochasticRoundingTest {
    private static final int ROWS = 4;
    private static final int COLS = 256;

    @Test
    void stochasticRoundingLowersTheLossWhereNearestLeavesWeightsUnchanged() {
        Random rnd = new Random(5);
        float[] w0 = new float[ROWS * COLS];
        float[] target = new float[ROWS * COLS];
        for (int i = 0; i < w0.length; i++) {
            w0[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        for (int g = 0; g < ROWS; g++) { // pin each group's extremes
            w0[g * COLS] = -1f;
            w0[g * COLS + 1] = 1f;
        }
        for (int i = 0; i < w0.length; i++) {
            boolean extreme = i % COLS < 2;
            target[i] = extreme ? w0[i] : Math.max(-0.99f, Math.min(0.99f, w0[i] + (i % 2 == 0 ? 0.3f : -0.3f)));
        }
        double step = 2.0 / 255;              // the INT8 step of a group spanning [−1, 1]
        double lr = 1e-3;                     // |update| ≤ lr·0.3 = 3e-4 < step/2 ≈ 3.9e-3
        float[] nearest = run("nearest", w0, target, lr, 200);
        float[] stochastic = run("stochastic", w0, target, lr, 200);
        float[] start = run("nearest", w0, target, lr, 0);
        assertTrue(lr * 0.3 < step / 2);
        assertArrayEquals(start, nearest, "round-to-nearest: the weight never moves");
        double l0 = loss(start, target);
        double ln = loss(nearest, target);
        double ls = loss(stochastic, target);
        assertTrue(ln == l0, "nearest loss unchanged: " + ln + " vs " + l0);
        // expected movement 200 · 3e-4 = 0.06 of 0.3: loss falls by about 1 − 0.8² = 36%
        assertTrue(ls < 0.8 * l0, "stochastic rounding lowers the loss: " + ls + " vs " + l0);
    }

    private static float[] run(String rounding, float[] w0, float[] target, double lr, int steps) {
        OptimSettings s = OptimSettings.from(Map.of("method", "sgd", "momentum", 0.0, "weights", "int8",
                "weight_rounding", rounding));
        try (LayerwiseOptimizer opt = LayerwiseOptimizer.create(s, 9)) {
            opt.add("w", TestArrays.matrix(w0, ROWS, COLS));
            for (int t = 0; t < steps; t++) {
                float[] w = TestArrays.values(opt.weight("w"));
                float[] g = new float[w.length];
                for (int i = 0; i < w.length; i++) {
                    g[i] = w[i] - target[i];                   // ∇ ½‖W − T‖²
                }
                INDArray grad = TestArrays.matrix(g, ROWS, COLS);
                opt.update("w", grad, lr, 1.0);
                opt.endStep();
            }
            return TestArrays.values(opt.weight("w"));
        }
    }

    private static double loss(float[] w, float[] target) {
        double l = 0;
        for (int i = 0; i < w.length; i++) {
            l += 0.5 * (w[i] - target[i]) * (w[i] - target[i]);
        }
        return l;
    }
}
