package io.galore4j.galore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Gradient accumulation equals one update with the summed gradient; the INT8 weight pool contract; bad calls. */
class AccumulationAndPoolTest {

    @ParameterizedTest
    @ValueSource(strings = {"adamw", "galore", "lion"})
    void accumulatedMicroBatchesEqualTheSummedGradient(String method) {
        Random rnd = new Random(2);
        float[] w0 = TestArrays.gaussian(rnd, 32 * 40, 1.0);
        float[] g1 = TestArrays.gaussian(rnd, 32 * 40, 1.0);
        // GaLore takes the step's basis from its first gradient: with g2 = g1 both runs share it
        float[] g2 = method.equals("galore") ? g1.clone() : TestArrays.gaussian(rnd, 32 * 40, 1.0);
        float[] sum = new float[g1.length];
        for (int i = 0; i < sum.length; i++) {
            sum[i] = 0.5f * (g1[i] + g2[i]);
        }
        // only the galore case projects "w"; adamw and lion run full rank
        String projection = method.equals("galore") ? "w" : "none";
        OptimSettings s = OptimSettings.from(Map.of("method", method, "projection", projection, "rank", 8));
        try (LayerwiseOptimizer a = LayerwiseOptimizer.create(s, 1); LayerwiseOptimizer b = LayerwiseOptimizer.create(s, 1)) {
            a.add("w", TestArrays.matrix(w0, 32, 40));
            b.add("w", TestArrays.matrix(w0, 32, 40));
            for (int step = 0; step < 2; step++) {
                a.accumulate("w", TestArrays.matrix(g1, 32, 40));
                a.update("w", TestArrays.matrix(g2, 32, 40), 1e-2, 0.5);
                a.endStep();
                b.update("w", TestArrays.matrix(sum, 32, 40), 1e-2, 1.0);
                b.endStep();
            }
            double err = TestArrays.relativeError(TestArrays.values(a.weight("w")), TestArrays.values(b.weight("w")));
            assertTrue(err < 1e-6, "relative difference " + err);
        }
    }

    /**
     * bf16 accumulation (the flash presets): A = bf16(g1) after the first micro-batch, and the
     * update sees (g2 + A)·½, bit for bit what an update with that gradient computed by hand sees.
     * An fp32 accumulator would differ: g1 is not a bfloat16.
     */
    @Test
    void bf16AccumulationRoundsTheRunningSumToNearestEven() {
        Random rnd = new Random(6);
        float[] w0 = TestArrays.gaussian(rnd, 64 * 80, 0.02);
        float[] g1 = TestArrays.gaussian(rnd, 64 * 80, 1.0);
        float[] g2 = TestArrays.gaussian(rnd, 64 * 80, 1.0);
        float[] byHand = new float[g1.length];
        float[] fp32Sum = new float[g1.length];
        for (int i = 0; i < g1.length; i++) {
            byHand[i] = (g2[i] + io.galore4j.quant.Bf16.toFloat(io.galore4j.quant.Bf16.round(g1[i]))) * 0.5f;
            fp32Sum[i] = (g2[i] + g1[i]) * 0.5f;
        }
        // flash-sgd: its first update is N = G itself (Adam's first N ≈ sign(G) would hide the sum's rounding)
        OptimSettings s = OptimSettings.preset("flash-sgd");
        try (LayerwiseOptimizer a = LayerwiseOptimizer.create(s, 1); LayerwiseOptimizer b = LayerwiseOptimizer.create(s, 1);
                LayerwiseOptimizer c = LayerwiseOptimizer.create(s, 1)) {
            for (LayerwiseOptimizer o : List.of(a, b, c)) {
                o.add("w", TestArrays.matrix(w0, 64, 80));
            }
            a.accumulate("w", TestArrays.matrix(g1, 64, 80));
            assertEquals(2L * 64 * 80, a.memory().row("w").get(MemoryAccount.Component.ACCUMULATION), "2 bytes per element");
            a.update("w", TestArrays.matrix(g2, 64, 80), 1e-2, 0.5);
            b.update("w", TestArrays.matrix(byHand, 64, 80), 1e-2, 1.0);
            c.update("w", TestArrays.matrix(fp32Sum, 64, 80), 1e-2, 1.0);
            assertArrayEquals(TestArrays.values(b.weight("w")), TestArrays.values(a.weight("w")));
            assertFalse(java.util.Arrays.equals(TestArrays.values(c.weight("w")), TestArrays.values(a.weight("w"))),
                    "the fp32 sum gives other weights");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"int8", "split"})
    void encodedWeightViewsArePooledPerShape(String weights) {
        OptimSettings s = OptimSettings.from(Map.of("method", "adamw", "weights", weights));
        Random rnd = new Random(4);
        try (LayerwiseOptimizer opt = LayerwiseOptimizer.create(s, 1)) {
            for (String n : new String[] {"a", "b", "c"}) {
                opt.add(n, TestArrays.matrix(TestArrays.gaussian(rnd, 16 * 32, 1.0), 16, 32));
            }
            assertEquals(2L * 4 * 16 * 32, opt.memory().weightPoolBytes(), "two buffers for the one shape");
            INDArray a = opt.weight("a");
            float[] aValues = TestArrays.values(a);
            INDArray b = opt.weight("b");
            assertNotSame(a, b);
            assertSame(a, opt.weight("a"), "still valid: returned without dequantizing again");
            assertArrayEquals(aValues, TestArrays.values(a));
            opt.weight("c"); // reuses the least recently used buffer (b's)
            assertSame(a, opt.weight("a"));
            opt.update("a", TestArrays.matrix(TestArrays.gaussian(rnd, 16 * 32, 1.0), 16, 32), 1e-2, 1.0);
            float[] after = TestArrays.values(opt.weight("a"));
            assertTrue(TestArrays.relativeError(after, aValues) > 1e-4, "updated value is dequantized again");
        }
    }

    @Test
    void badCallsNameTheParameter() {
        try (LayerwiseOptimizer opt = LayerwiseOptimizer.create(OptimSettings.preset("adamw"), 1)) {
            opt.add("w", TestArrays.matrix(new float[6], 2, 3));
            assertEquals("unknown parameter v", assertThrows(IllegalArgumentException.class, () -> opt.weight("v")).getMessage());
            String msg = assertThrows(IllegalArgumentException.class,
                    () -> opt.update("w", TestArrays.matrix(new float[6], 3, 2), 1e-3, 1)).getMessage();
            assertTrue(msg.contains("gradient of w"), msg);
            msg = assertThrows(IllegalArgumentException.class,
                    () -> opt.update("w", TestArrays.matrix(new float[] {0, 0, Float.NaN, 0, 0, 0}, 2, 3), 1e-3, 1)).getMessage();
            assertTrue(msg.toLowerCase().contains("nan"), msg);
            msg = assertThrows(IllegalArgumentException.class, () -> opt.add("w", TestArrays.matrix(new float[6], 2, 3))).getMessage();
            assertTrue(msg.contains("parameter w"), msg);
        }
    }

    @Test
    void addSaysWhetherItKeepsTheInitialArraySoTheCallerCanReleaseCopies() {
        float[] w0 = TestArrays.gaussian(new Random(3), 32 * 40, 1.0);
        try (LayerwiseOptimizer fp32 = LayerwiseOptimizer.create(OptimSettings.preset("adamw"), 1);
                LayerwiseOptimizer int8 = LayerwiseOptimizer.create(OptimSettings.from(Map.of("method", "adamw8bit",
                        "weights", "int8")), 1)) {
            INDArray kept = TestArrays.matrix(w0, 32, 40);
            assertTrue(fp32.add("w", kept));
            assertSame(kept, fp32.weight("w"));
            INDArray copied = TestArrays.matrix(w0, 32, 40);
            assertEquals(false, int8.add("w", copied));
            copied.close(); // the INT8 codes do not depend on the released array
            float[] back = TestArrays.values(int8.weight("w"));
            double err = TestArrays.relativeError(back, w0);
            assertTrue(err < 0.01, "INT8 round trip after release: " + err);
        }
    }

    /** adamw4bit's rank-1 second moment updates the whole tensor at once: larger than one chunk, fp32 or INT8. */
    @ParameterizedTest
    @ValueSource(strings = {"fp32", "int8"})
    void wholeTensorCodecsUpdateTensorsLargerThanAChunk(String weights) {
        int rows = 64;
        int cols = 3 * Chunks.SIZE / 64 + 8; // three chunks and a partial one
        Random rnd = new Random(5);
        float[] w0 = TestArrays.gaussian(rnd, rows * cols, 1.0);
        float[] g = TestArrays.gaussian(rnd, rows * cols, 1.0);
        OptimSettings rank1 = OptimSettings.from(Map.of("method", "adamw4bit", "weights", weights));
        OptimSettings blocks = OptimSettings.from(Map.of("method", "adamw4bit", "weights", weights,
                "v_codec", "linear4nz"));
        try (LayerwiseOptimizer a = LayerwiseOptimizer.create(rank1, 1);
                LayerwiseOptimizer b = LayerwiseOptimizer.create(blocks, 1)) {
            a.add("w", TestArrays.matrix(w0, rows, cols));
            b.add("w", TestArrays.matrix(w0, rows, cols));
            a.update("w", TestArrays.matrix(g, rows, cols), 1e-2, 1.0);
            b.update("w", TestArrays.matrix(g, rows, cols), 1e-2, 1.0);
            float[] wa = TestArrays.values(a.weight("w"));
            float[] wb = TestArrays.values(b.weight("w"));
            // first step: Adam moves every weight by about lr (m/sqrt(v) is about ±1 either way),
            // so both codecs give nearly the same step, over every chunk
            double err = TestArrays.relativeError(wa, wb);
            assertTrue(err < 0.01, "rank-1 vs block scaling after one step: " + err);
            double moved = TestArrays.relativeError(wa, w0);
            assertTrue(moved > 1e-3, "the weights moved: " + moved);
        }
    }
}
