package io.galore4j.distributed;

import io.galore4j.trainer.run.RunStopped;
import io.galore4j.trainer.run.StopSignal;
import java.io.PrintStream;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * The driver's side of a data-parallel run's faults (docs/design.md §3.9): runs the workers as one
 * barrier stage and, when a worker failed in a way a restart gets past (a peer died or left), runs
 * them again, each time with a fresh tracker, up to {@code maxRestarts} times; the workers continue
 * from the run's latest checkpoint by themselves. Spark's own task and stage retries are off
 * ({@link WorkerCluster}), so this loop is the only one that restarts anything.
 *
 * <p>Every failure that ends the run becomes one {@link IllegalArgumentException} naming it; a
 * stop the workers agreed on after a signal ends it as a single process's stop does
 * ({@link RunStopped}, exit code 128 + the signal's number).
 */
final class RestartLoop {

    private RestartLoop() {
    }

    /**
     * @param startTimeoutS    seconds the workers have to start and join the collective
     * @param exchangeTimeoutS seconds one exchange waits for a peer (train.exchange_timeout_s)
     */
    static void run(JavaSparkContext sc, int workers, int maxRestarts, int startTimeoutS, int exchangeTimeoutS,
            BarrierWorkers.Work work, PrintStream out) {
        run(sc, workers, maxRestarts, startTimeoutS, exchangeTimeoutS, work, out, () -> false);
    }

    /** As above; after {@code stopping} became true (a signal to the driver) a failed stage is not restarted. */
    static void run(JavaSparkContext sc, int workers, int maxRestarts, int startTimeoutS, int exchangeTimeoutS,
            BarrierWorkers.Work work, PrintStream out, java.util.function.BooleanSupplier stopping) {
        for (int restarts = 0; ; restarts++) {
            try {
                BarrierWorkers.run(sc, workers, startTimeoutS + exchangeTimeoutS, exchangeTimeoutS, work);
                return;
            } catch (Exception e) { // Spark's SparkException is checked in Java's terms, thrown unchecked
                if (sc.sc().isStopped()) {
                    // Spark's shutdown hook stopped it and its workers: the process is ending (Ctrl-C)
                    throw new IllegalArgumentException("data-parallel run: stopped with the workers' processes; "
                            + "continue from the latest checkpoint with --resume", e);
                }
                String failure = restartable(e);
                if (stopping.getAsBoolean()) {
                    throw new IllegalArgumentException("data-parallel run: stopped by a signal while a worker failed ("
                            + failure + "); continue from the latest checkpoint with --resume", e);
                }
                if (restarts == maxRestarts) {
                    throw new IllegalArgumentException("data-parallel run: a worker failed after " + restarts
                            + " restart" + (restarts == 1 ? "" : "s") + " (train.max_restarts=" + maxRestarts
                            + "): " + failure, e);
                }
                out.printf("galore train: a worker failed (%s); restarting the %d workers from the latest "
                        + "checkpoint (restart %d of %d)%n", failure, workers, restarts + 1, maxRestarts);
            }
        }
    }

    /**
     * What failed, when the workers can start again from the latest checkpoint; otherwise throws
     * the {@link IllegalArgumentException} that ends the run.
     */
    static String restartable(Exception e) {
        WorkerFailure w = WorkerFailure.of(e);
        if (w != null) {
            return switch (w.kind()) {
                case RESTART -> w.detail();
                case FIX -> throw new IllegalArgumentException(w.detail(), e);
                case STALLED -> throw new IllegalArgumentException("data-parallel run: " + w.detail(), e);
                case STOPPED -> throw stopped(w.detail());
            };
        }
        String message = firstLine(e);
        String all = String.valueOf(e.getMessage());
        if (!(e instanceof SparkException) && !(e.getCause() instanceof SparkException)) {
            // the tracker did not start, or Spark refused the stage before any worker ran
            throw new IllegalArgumentException("data-parallel run: the workers could not start: " + message, e);
        }
        if (all.contains("requires more slots") || all.contains("collective: joining failed")) {
            throw new IllegalArgumentException("data-parallel run: the workers could not start: " + message, e);
        }
        return message; // a worker's process died (Spark reports the lost executor)
    }

    /** The workers' {@link RunStopped} again, from its "EXIT-CODE message" form. */
    private static RunStopped stopped(String detail) {
        int space = detail.indexOf(' ');
        int code = Integer.parseInt(detail.substring(0, space));
        return new StopSignal.Stop(code == 143 ? "TERM" : "INT", code).stopped(detail.substring(space + 1));
    }

    /**
     * The message's first line, or for a failed barrier stage the line that names the task's
     * failure (Spark puts its own sentence about the stage first).
     */
    private static String firstLine(Throwable e) {
        String[] lines = String.valueOf(e.getMessage()).strip().split("\\R");
        if (lines.length > 1 && lines[0].contains("barrier task") && !lines[1].isBlank()) {
            return lines[1].strip();
        }
        return lines[0].strip();
    }
}
