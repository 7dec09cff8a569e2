package io.galore4j.distributed;

import io.galore4j.trainer.run.StopSignal;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * Ctrl-C on a data-parallel run (docs/design.md §3.9): the driver that received the signal writes
 * it into the run's {@code workers/stop}; each worker watches that file and asks its training loop
 * to stop, as a signal to a single process would. The workers agree on the stop after the step
 * under way, write its checkpoint and end, so the run continues with {@code --resume}. The file
 * goes through the run directory, which every worker already shares (on a cluster too), and a
 * worker that the terminal's signal reached as well stops the same way.
 */
final class StopForwarding implements AutoCloseable {

    /** The file in a run's workers/ directory that asks the workers to stop: "EXIT-CODE NAME". */
    static final String FILE = "stop";
    private static final long POLL_MILLIS = 100;

    private final Thread thread;

    private StopForwarding(String name, Runnable poll) {
        this.thread = new Thread(() -> {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    poll.run();
                    Thread.sleep(POLL_MILLIS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, name);
        thread.setDaemon(true);
        thread.start();
    }

    /** The driver's side: once {@code requested} gives a stop, writes it to {@code workers/stop} (once). */
    static StopForwarding driver(Path workers, Supplier<StopSignal.Stop> requested) throws IOException {
        Path file = workers.resolve(FILE);
        Files.deleteIfExists(file); // left by an earlier run's stop
        boolean[] written = {false};
        return new StopForwarding("galore-stop-forward", () -> {
            StopSignal.Stop stop = requested.get();
            if (stop != null && !written[0]) {
                written[0] = true;
                try {
                    Files.writeString(file, stop.exitCode() + " " + stop.name() + "\n", StandardCharsets.UTF_8);
                } catch (IOException e) {
                    System.err.println("galore train: could not tell the workers to stop (" + file + "): " + e);
                }
            }
        });
    }

    /** A worker's side: once {@code workers/stop} exists, asks this process's training loop to stop. */
    static StopForwarding worker(Path workers) {
        Path file = workers.resolve(FILE);
        return new StopForwarding("galore-stop-watch", () -> {
            StopSignal.Stop stop = read(file);
            if (stop != null) {
                StopSignal.request(stop);
            }
        });
    }

    /** The stop a file holds, or null when there is none (or it is being written). */
    static StopSignal.Stop read(Path file) {
        try {
            String[] parts = Files.readString(file, StandardCharsets.UTF_8).strip().split(" ");
            return parts.length == 2 ? new StopSignal.Stop(parts[1], Integer.parseInt(parts[0])) : null;
        } catch (IOException | NumberFormatException e) {
            return null;
        }
    }

    @Override
    public void close() {
        thread.interrupt();
    }
}
