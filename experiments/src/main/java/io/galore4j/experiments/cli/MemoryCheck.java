package io.galore4j.experiments.cli;

import io.galore4j.trainer.MemoryEstimate;
import io.galore4j.trainer.TrainJob;
import io.galore4j.trainer.run.ProcessMemory;
import java.io.IOException;
import picocli.CommandLine.Option;

/**
 * {@code --no-memory-check}, and the check it turns off: a run whose estimated memory
 * ({@code galore memory}) exceeds what the machine has available is refused before anything is
 * allocated or written.
 */
final class MemoryCheck {

    @Option(names = "--no-memory-check", descriptionKey = "no-memory-check",
            description = "start even when the estimated memory (galore memory) exceeds what the machine has available")
    boolean off;

    /** Refuses {@code job} when its estimated memory exceeds what is available, unless --no-memory-check. */
    void check(TrainJob job) throws IOException {
        if (!off) {
            refuseOverAvailable(job);
        }
    }

    /** Refuses {@code job} when its estimated memory exceeds what this machine has available. */
    static void refuseOverAvailable(TrainJob job) throws IOException {
        long available = ProcessMemory.availableBytes();
        if (available > 0) { // unknown where /proc/meminfo is missing: no check
            refuseOver(job.memoryEstimate(), available + Math.max(0, ProcessMemory.rssBytes()));
        }
    }

    /**
     * Refuses a run whose estimated memory exceeds {@code availableBytes} (what the kernel reports
     * available plus what this process already holds) before anything is allocated or written.
     */
    static void refuseOver(MemoryEstimate estimate, long availableBytes) {
        if (estimate.totalBytes() > availableBytes) {
            throw new IllegalArgumentException(String.format(
                    "this run needs an estimated %.1f GiB (%s, %s) but the machine has %.1f GiB available; "
                            + "see `galore memory` for the breakdown, or pass --no-memory-check to start anyway",
                    estimate.totalBytes() / 1073741824.0, estimate.method(),
                    "batch " + estimate.batch() + " × seq " + estimate.seq(), availableBytes / 1073741824.0));
        }
    }
}
