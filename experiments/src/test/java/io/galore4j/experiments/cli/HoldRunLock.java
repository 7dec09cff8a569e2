package io.galore4j.experiments.cli;

import io.galore4j.trainer.run.RunLock;
import java.nio.file.Path;

/**
 * Holds the lock of the run directory {@code args[0]} ({@link RunLock}) until stdin closes or the
 * process is killed; prints "locked" once it holds it. A second process for the lock tests.
 */
public final class HoldRunLock {

    private HoldRunLock() {
    }

    @SuppressWarnings("try") // held, not used
    public static void main(String[] args) throws Exception {
        try (RunLock lock = RunLock.acquire(Path.of(args[0]))) {
            System.out.println("locked");
            System.out.flush();
            while (System.in.read() >= 0) {
                // until stdin closes
            }
        }
    }
}
