package io.galore4j.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.galore4j.trainer.MemoryEstimate;
import io.galore4j.trainer.config.ConfigTree;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The memory table of {@code galore memory} and the check train, bench and sweep run before they start. */
class MemoryCommandTest {

    private static final long GIB = 1L << 30;

    /** The estimate of {@code preset} trained with {@code method}, after the assignments {@code sets}. */
    private static MemoryEstimate estimate(String preset, String method, int batch, int seq, String... sets)
            throws Exception {
        ConfigTree t = ConfigTree.defaults().with(null, List.of("model.preset=" + preset, "optim.method=" + method));
        return MemoryEstimate.of(t.with(null, List.of(sets)), batch, seq);
    }

    @Test
    void theTableShowsAccumulatedGradientsWhenARunKeepsThem() throws Exception {
        MemoryEstimate kept = estimate("micro", "flash-adamw", 16, 128, "train.grad_accum=2");
        assertTrue(MemoryCommand.table(List.of(kept)).contains("  + accumulated gradients"));
    }

    @Test
    void aRunOverTheAvailableMemoryIsRefusedWithTheEstimate() throws Exception {
        MemoryEstimate a = estimate("7b", "adamw", 1, 256);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MemoryCheck.refuseOver(a, 16 * GIB));
        assertTrue(e.getMessage().startsWith(String.format("this run needs an estimated %.1f GiB (adamw, batch 1 × seq 256)"
                + " but the machine has 16.0 GiB available", a.totalBytes() / (double) GIB)), e.getMessage());
        MemoryCheck.refuseOver(estimate("7b", "q-galore", 1, 256), 16 * GIB); // fits: no exception
    }
}
