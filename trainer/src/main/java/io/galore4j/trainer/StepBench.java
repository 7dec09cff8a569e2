package io.galore4j.trainer;

import io.galore4j.galore.LayerwiseOptimizer;
import io.galore4j.projection.SubspaceStats;
import io.galore4j.trainer.data.TrainingBatches;
import io.galore4j.trainer.model.LlamaModel;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code galore bench}'s training steps: the training loop's own step ({@link LayerwiseStep}, one
 * micro-batch, no clipping) timed phase by phase ({@link StepTiming}).
 */
final class StepBench {

    /** CPU clocks: the main thread's and the whole process's. */
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final com.sun.management.OperatingSystemMXBean PROCESS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    private final TrainJob job;
    private final LayerwiseOptimizer opt;
    private final TrainingBatches batches;
    /** Nanoseconds spent fetching (decoding) weights since the step began. */
    private long fetchNanos;

    StepBench(TrainJob job, LayerwiseOptimizer opt, TrainingBatches batches) {
        this.job = job;
        this.opt = opt;
        this.batches = batches;
    }

    /**
     * {@code warmup} untimed steps, then {@code steps} timed ones on the training batches, each
     * preceded by a timed forward-only pass over the same batch. Writes no file and closes the
     * optimizer at the end. The updates are the run's (learning-rate schedule from step 0),
     * without clipping. {@code beforeStep} gets each step's 0-based index (warm-up steps
     * included) before its forward-only pass: a hook to change a setting (such as the BLAS thread
     * count) from step to step.
     */
    List<StepTiming> run(int warmup, int steps, IntConsumer beforeStep) {
        if (warmup < 0 || steps < 1) {
            throw new IllegalArgumentException("bench needs warmup >= 0 and steps >= 1, got " + warmup + ", " + steps);
        }
        LlamaModel net = job.network(name -> {
            long t = System.nanoTime();
            INDArray w = opt.weight(name);
            fetchNanos += System.nanoTime() - t;
            return w;
        });
        LayerwiseStep stepper = new LayerwiseStep(net, opt, ReplicaSync.SINGLE);
        LrSchedule schedule = job.schedule();
        List<StepTiming> timings = new ArrayList<>();
        try {
            for (int step = 0; step < warmup + steps; step++) {
                int[][] batch = batches.next();
                double lr = schedule.at(step);
                beforeStep.accept(step);
                long f0 = System.nanoTime();
                net.loss(batch);
                long forward = System.nanoTime() - f0;
                fetchNanos = 0;
                long mainCpu0 = THREADS.getCurrentThreadCpuTime();
                long cpu0 = PROCESS.getProcessCpuTime();
                long s0 = System.nanoTime();
                LayerwiseStep.Outcome o = stepper.run(() -> batch, 1, lr, 1.0);
                long end = System.nanoTime();
                long cpu = PROCESS.getProcessCpuTime() - cpu0;
                long mainCpu = THREADS.getCurrentThreadCpuTime() - mainCpu0;
                double refreshMs = 0;
                int refreshes = 0;
                for (SubspaceStats e : opt.drainRefreshEvents()) {
                    refreshMs += e.basisMillis();
                    refreshes++;
                }
                if (step >= warmup) {
                    timings.add(new StepTiming(step + 1, (end - s0) / 1e9, forward / 1e9, o.optimizerNanos() / 1e9,
                            refreshMs / 1e3, fetchNanos / 1e9, o.lossSum(), refreshes, cpu / 1e9, mainCpu / 1e9));
                }
            }
        } finally {
            opt.close();
        }
        return timings;
    }
}
