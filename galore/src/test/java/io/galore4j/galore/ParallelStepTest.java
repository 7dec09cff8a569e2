package io.galore4j.galore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** An update whose chunks run in parallel gives the same weights, bit for bit, as one run in order. */
class ParallelStepTest {
    private static final long[] SHAPE = {600, 700}; // 420,000 elements: above the parallel threshold

    private static float[] train(String method, boolean parallel, int steps) {
        Random rnd = new Random(5);
        int n = (int) (SHAPE[0] * SHAPE[1]);
        try (LayerwiseOptimizer opt = LayerwiseOptimizer.create(OptimSettings.from(Map.of("method", method)), 3)) {
            opt.kernel().parallelMinElements(parallel ? 1 << 14 : Integer.MAX_VALUE);
            opt.add("lm_head.weight", Nd4j.create(TestArrays.gaussian(rnd, n, 0.02), SHAPE, 'c'));
            for (int s = 0; s < steps; s++) {
                INDArray g = Nd4j.create(TestArrays.gaussian(rnd, n, 1e-3), SHAPE, 'c');
                opt.update("lm_head.weight", g, 1e-3, 1.0);
                opt.endStep();
            }
            return opt.weight("lm_head.weight").data().asFloat();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"adamw", "adamw8bit", "adamw4bit", "flash-adamw", "lion", "sgd"})
    void parallelChunksEqualChunksInOrder(String method) {
        float[] inOrder = train(method, false, 3);
        float[] parallel = train(method, true, 3);
        assertArrayEquals(inOrder, parallel, method);
    }

    @ParameterizedTest
    @ValueSource(strings = {"adamw8bit", "adamw4bit", "flash-adamw"})
    void aNonFiniteGradientIsReportedWithTheSameMessageAsInOrder(String method) {
        assertEquals(nanMessage(method, false), nanMessage(method, true));
    }

    private static String nanMessage(String method, boolean parallel) {
        Random rnd = new Random(5);
        int n = (int) (SHAPE[0] * SHAPE[1]);
        try (LayerwiseOptimizer opt = LayerwiseOptimizer.create(OptimSettings.from(Map.of("method", method)), 3)) {
            opt.kernel().parallelMinElements(parallel ? 1 << 14 : Integer.MAX_VALUE);
            opt.add("lm_head.weight", Nd4j.create(TestArrays.gaussian(rnd, n, 0.02), SHAPE, 'c'));
            float[] g = TestArrays.gaussian(rnd, n, 1e-3);
            g[n - 5] = Float.NaN;
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> opt.update("lm_head.weight", Nd4j.create(g, SHAPE, 'c'), 1e-3, 1.0));
            assertTrue(e.getMessage() != null && !e.getMessage().isEmpty(), method);
            return e.getMessage();
        }
    }
}
