package io.galore4j.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.galore4j.trainer.run.RunStopped;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ctrl-C on a data-parallel run: the driver writes the signal to {@code workers/stop}, the
 * workers stop after their step with a checkpoint, and the run continues from it with --resume.
 */
class StopForwardingTest {

    @TempDir
    Path tmp;

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aStopForwardedToTheWorkersEndsTheRunWithACheckpointOfItsStep() throws Exception {
        Path corpus = TinyRun.corpus(tmp);
        Path run = tmp.resolve("run");
        // the driver's side, as a signal to it would: once step 3 is logged
        Thread driver = new Thread(() -> {
            try {
                for (long end = System.nanoTime() + 100_000_000_000L; System.nanoTime() < end; Thread.sleep(20)) {
                    Path metrics = run.resolve("metrics.jsonl");
                    if (Files.isRegularFile(metrics) && Files.readAllLines(metrics).size() >= 3) {
                        Files.writeString(run.resolve("workers").resolve(StopForwarding.FILE), "130 INT\n");
                        return;
                    }
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "test-stop");
        driver.setDaemon(true);
        driver.start();
        RunStopped stopped = assertThrows(RunStopped.class,
                () -> TinyRun.launch(TinyRun.settings(corpus, 40, "train.master=local[2]", "train.ckpt_every=100"), run));
        assertEquals(130, stopped.exitCode());
        assertTrue(stopped.getMessage().matches("stopped at step \\d+ \\(SIGINT\\); checkpoint written to .*"),
                stopped.getMessage());
        assertTrue(stopped.getMessage().endsWith("resume with: galore train --resume " + run), stopped.getMessage());
        long step = Long.parseLong(stopped.getMessage().replaceAll("stopped at step (\\d+) .*", "$1"));
        assertTrue(step >= 3 && step < 40, "stopped at " + step);
        assertTrue(Files.isDirectory(run.resolve("checkpoints").resolve(String.format("step-%08d", step))));
        assertEquals(StopForwarding.read(run.resolve("workers").resolve(StopForwarding.FILE)).exitCode(), 130);
    }
}
