package io.galore4j.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.galore4j.galore.ExchangeMemory;
import io.galore4j.galore.OptimSettings;
import io.galore4j.projection.BasisMethod;
import io.galore4j.projection.RefreshWorkspace;
import io.galore4j.projection.Side;
import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.config.RunConfig;
import io.galore4j.trainer.model.LlamaParameters;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MemoryEstimateTest {

    private static final long GIB = 1L << 30;

    private static MemoryEstimate estimate(String preset, String method, int batch, int seq, String... sets)
            throws Exception {
        ConfigTree t = ConfigTree.defaults().set("model.preset=" + preset).set("optim.method=" + method);
        for (String s : sets) {
            t = t.set(s);
        }
        return MemoryEstimate.of(t, batch, seq);
    }

    @Test
    void sevenBillionParametersWithQGaloreFitIn16GiBAndFullRankAdamWDoesNot() throws Exception {
        MemoryEstimate q = estimate("7b", "q-galore", 1, 256);
        assertTrue(q.totalBytes() <= 16 * GIB, "q-galore 7b: " + q.totalBytes() / (double) GIB + " GiB");
        MemoryEstimate a = estimate("7b", "adamw", 1, 256);
        // fp32 weights and two fp32 moments alone are 12 bytes per parameter
        assertTrue(a.components().get("weights") + a.components().get("optimizer_m") + a.components().get("optimizer_v")
                >= 12 * a.model().parameterCount());
        assertTrue(a.totalBytes() > 64 * GIB, "adamw 7b: " + a.totalBytes() / (double) GIB + " GiB");
    }

    @Test
    void theTotalIsTheSumOfTheComponentsAndCheckpointingOnlyChangesActivations() throws Exception {
        MemoryEstimate off = estimate("60m", "q-galore", 8, 256);
        MemoryEstimate on = estimate("60m", "q-galore", 8, 256, "model.checkpoint_activations=true");
        assertEquals(off.components().values().stream().mapToLong(Long::longValue).sum(), off.totalBytes());
        assertEquals(off.activationsFull(), off.components().get("activations"));
        assertEquals(on.activationsCheckpointed(), on.components().get("activations"));
        assertTrue(on.activationsCheckpointed() < on.activationsFull());
        for (Map.Entry<String, Long> e : off.components().entrySet()) {
            if (!e.getKey().equals("activations")) {
                assertEquals(e.getValue(), on.components().get(e.getKey()), e.getKey());
            }
        }
        Map<String, Object> json = on.toMap();
        assertEquals(on.totalBytes(), json.get("total_bytes"));
        assertEquals("q-galore", json.get("method"));
    }

    @Test
    void aDataParallelWorkerAddsItsExchangeBuffersAndSparkRuntimeAndOneProcessNothing() throws Exception {
        MemoryEstimate one = estimate("micro", "q-galore", 4, 64);
        MemoryEstimate two = estimate("micro", "q-galore", 4, 64, "train.workers=2");
        assertEquals(0L, one.components().get("exchange_buffers"));
        ConfigTree t = ConfigTree.defaults().set("model.preset=micro").set("optim.method=q-galore");
        long formula = ExchangeMemory.of(OptimSettings.from(t.section("optim")),
                LlamaParameters.shapes(RunConfig.modelConfig(t))).bytes();
        assertTrue(formula > 0);
        assertEquals(formula, two.components().get("exchange_buffers"));
        long worker = MemoryEstimate.WORKER_RUNTIME_MIB << 20;
        assertEquals(one.components().get("runtime") + worker, two.components().get("runtime"));
        assertEquals(one.totalBytes() + formula + worker, two.totalBytes());
        for (String c : MemoryEstimate.COMPONENTS) {
            if (!c.equals("exchange_buffers") && !c.equals("runtime")) {
                assertEquals(one.components().get(c), two.components().get(c), c);
            }
        }
        assertEquals(formula, two.figures().exchangeBuffers());
        // 7b: the pieces bound the collective's copies, well below one copy of the 32000 × 4096 embedding each
        MemoryEstimate big = estimate("7b", "q-galore", 1, 256, "train.workers=2");
        assertTrue(big.components().get("exchange_buffers") < 4L * 32000 * 4096, big.components().toString());
    }

    @Test
    void fullRankMethodsHaveNoProjectionAndLowBitStatesShrinkTheMoments() throws Exception {
        MemoryEstimate adamw = estimate("micro", "adamw", 16, 128);
        MemoryEstimate eight = estimate("micro", "adamw8bit", 16, 128);
        assertEquals(0L, adamw.components().get("projection"));
        assertEquals(0L, adamw.components().get("refresh"));
        assertEquals(4 * adamw.model().parameterCount(), (long) adamw.components().get("optimizer_m"));
        assertTrue(eight.components().get("optimizer_m") < adamw.components().get("optimizer_m") / 3);
        MemoryEstimate galore = estimate("micro", "galore", 16, 128);
        assertTrue(galore.components().get("projection") > 0);
        assertTrue(galore.components().get("refresh") > 0);
    }

    /**
     * flash-adamw on micro, from the formula per parameter: 3 bytes of split weight; tensors of
     * at least 4096 elements 1 byte per moment plus a 2-byte scale per 32, smaller ones (the
     * norm weights) fp32 moments; with train.grad_accum &gt; 1, 2 bytes of bf16 accumulated gradient.
     */
    @Test
    void flashAdamwOnMicroIsTheFormulasBytesPerParameter() throws Exception {
        MemoryEstimate e = estimate("micro", "flash-adamw", 16, 128);
        long params = 0;
        long persistent = 0;
        for (long[] shape : io.galore4j.trainer.model.LlamaParameters.shapes(e.model()).values()) {
            long n = shape.length == 1 ? shape[0] : shape[0] * shape[1];
            params += n;
            persistent += 3 * n + (n >= 4096 ? 2 * (n + 2 * ((n + 31) / 32)) : 8 * n);
        }
        assertEquals(e.model().parameterCount(), params);
        assertEquals((double) persistent / params, e.persistentBytesPerParameter(), 1e-12);
        assertEquals(0.0, e.accumulationBytesPerParameter());
        assertEquals(3 * params, (long) e.components().get("weights"));
        assertTrue(e.persistentBytesPerParameter() > 5.125 && e.persistentBytesPerParameter() < 5.14,
                "micro's norm weights keep fp32 moments: " + e.persistentBytesPerParameter());
        MemoryEstimate kept = estimate("micro", "flash-adamw", 16, 128, "train.grad_accum=2");
        assertEquals(2.0, kept.accumulationBytesPerParameter());
        assertEquals(kept.accumulationBytesPerParameter(), kept.toMap().get("accumulation_bytes_per_param"));
        assertEquals(4.0, estimate("micro", "adamw", 16, 128, "train.grad_accum=2").accumulationBytesPerParameter());
    }

    @Test
    void anExactRefreshHoldsTheGradientCopyAndBothThinFactors() {
        long m = 512;
        long n = 1376;
        long exact = RefreshWorkspace.bytes(BasisMethod.EXACT, 64, m, n, Side.STD, 16, 2, 32);
        assertTrue(exact >= 4 * (m * n + n * m + m * m), "exact " + exact);
        long randomized = RefreshWorkspace.bytes(BasisMethod.RANDOMIZED, 64, m, n, Side.STD, 16, 2, 32);
        assertTrue(randomized < exact / 4, "randomized " + randomized + " vs exact " + exact);
    }

    /**
     * The refresh estimate follows the configured randomized SVD: at the papers' 1B rank (512 of
     * 2048×5461) with the presets' oversampling 16 and 2 power iterations the Gram iteration runs
     * (C, two ℓ×M iterates, an ℓ×ℓ eigen-problem, ℓ = 528); with oversampling 256 and 4 iterations,
     * C's own eigen-problem of order M = 2048.
     */
    @Test
    void theRefreshEstimateFollowsTheConfiguredRandomizedSvd() throws Exception {
        long m = 2048;
        long r = 512;
        long common = 4 * r * m + (r * m / 2 + 8 * (r * m / 256)) + 4 * r * r; // the candidate's fp32 and INT4 basis, the rotation
        long l = 528;
        long iteration = 4 * (m * m + 2 * l * m + l * l + l * r + l + 2 * l * l + 11 * l) + common;
        long eigen = 4 * (m * m + 768 + 2 * m * m + 11 * m) + common;
        MemoryEstimate presets = estimate("1b", "q-galore", 1, 256, "optim.rank=512", "optim.svd=randomized");
        assertEquals(iteration, (long) presets.components().get("refresh"));
        MemoryEstimate wide = estimate("1b", "q-galore", 1, 256, "optim.rank=512", "optim.svd=randomized",
                "optim.svd_oversampling=256", "optim.svd_power_iterations=4");
        assertEquals(eigen, (long) wide.components().get("refresh"));
    }

    @Test
    void badBatchShapesAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> estimate("micro", "adamw", 1, 129));
        assertEquals("seq must be in [1, model.seq_len = 128], got 129", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> estimate("micro", "adamw", 0, 16));
        assertEquals("batch must be ≥ 1, got 0", e.getMessage());
    }
}
