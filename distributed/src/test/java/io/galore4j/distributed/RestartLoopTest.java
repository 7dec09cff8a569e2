package io.galore4j.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.run.RunStopped;
import io.galore4j.trainer.run.StopSignal;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The driver's restart loop ({@link SparkDataParallelLauncher#runWorkers}, {@link RestartLoop}) on
 * Spark {@code local[2]} with stand-in worker bodies: what is restarted, what is not, and the one
 * line each failure ends with. Each body appends "attempt rank" to a file of the run directory, so
 * a test sees how many times the workers ran.
 */
class RestartLoopTest {

    @TempDir
    Path run;

    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();

    private void launch(int maxRestarts, int exchangeTimeoutS, ReplicaWork.Body body) throws IOException {
        ConfigTree tree = ConfigTree.defaults().set("train.workers=2").set("train.master=local[2]")
                .set("train.max_restarts=" + maxRestarts).set("train.exchange_timeout_s=" + exchangeTimeoutS);
        SparkDataParallelLauncher.runWorkers(tree, run, new PrintStream(printed, true, StandardCharsets.UTF_8), body);
    }

    /** The attempt this body runs in (1 for the first), recorded with its rank. */
    private static int record(Path dir, int rank) throws IOException {
        Path log = dir.resolve("attempts.txt");
        synchronized (RestartLoopTest.class) {
            int attempt = 1 + (int) (Files.exists(log) ? Files.readAllLines(log).stream()
                    .filter(l -> l.endsWith(" " + rank)).count() : 0);
            Files.writeString(log, attempt + " " + rank + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            return attempt;
        }
    }

    private List<String> attempts() throws IOException {
        return Files.readAllLines(run.resolve("attempts.txt")).stream().sorted().toList();
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aWorkerThatFailsOnceIsRestartedWithAFreshCollective() throws Exception {
        launch(2, 30, (yaml, dir, replicas, out) -> {
            int attempt = record(dir, replicas.rank());
            if (attempt == 1 && replicas.rank() == 1) {
                throw new IllegalStateException("stand-in: peer lost");
            }
            float[] data = {replicas.rank() + 1f};
            replicas.sumInPlace(data); // on attempt 1 rank 0's sum finds its peer gone
            out.println("sum " + data[0]);
        });
        assertEquals(List.of("1 0", "1 1", "2 0", "2 1"), attempts());
        String text = printed.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("; restarting the 2 workers from the latest checkpoint (restart 1 of 2)"), text);
        // the second attempt's sum went through: both members joined the new tracker
        assertTrue(text.contains("sum 3.0"), text);
        assertTrue(Files.readString(run.resolve("workers/rank-1.log")).contains("sum 3.0"));
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aFailureTheUserMustFixIsNotRestartedAndKeepsItsMessage() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> launch(3, 30,
                (yaml, dir, replicas, out) -> {
                    record(dir, replicas.rank());
                    throw new IllegalArgumentException("data.path: no such corpus\nsecond line");
                }));
        assertEquals("data.path: no such corpus", e.getMessage());
        assertEquals(List.of("1 0", "1 1"), attempts());
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void workersThatStoppedOnASignalEndTheRunAsStoppedWithoutARestart() throws Exception {
        RunStopped e = assertThrows(RunStopped.class, () -> launch(3, 30, (yaml, dir, replicas, out) -> {
            record(dir, replicas.rank());
            throw new StopSignal.Stop("TERM", 143).stopped("stopped at step 4 after SIGTERM; continue with --resume X");
        }));
        assertEquals(143, e.exitCode());
        assertEquals("stopped at step 4 after SIGTERM; continue with --resume X", e.getMessage());
        assertEquals(List.of("1 0", "1 1"), attempts());
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void restartsEndAfterMaxRestartsWithOneLine() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> launch(1, 30,
                (yaml, dir, replicas, out) -> {
                    record(dir, replicas.rank());
                    throw new IllegalStateException("stand-in: always fails");
                }));
        assertEquals(4, attempts().size());
        assertTrue(e.getMessage().startsWith("data-parallel run: a worker failed after 1 restart (train.max_restarts=1): "),
                e.getMessage());
        assertTrue(e.getMessage().contains("stand-in: always fails") && !e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aPeerThatStallsPastTheExchangeTimeoutEndsTheRun() throws Exception {
        long start = System.nanoTime();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> launch(3, 2,
                (yaml, dir, replicas, out) -> {
                    record(dir, replicas.rank());
                    float[] data = new float[4];
                    replicas.sumInPlace(data);
                    if (replicas.rank() == 1) {
                        Thread.sleep(4000);
                    }
                    replicas.sumInPlace(data);
                }));
        assertTrue(e.getMessage().startsWith("data-parallel run: rank 0 waited ")
                && e.getMessage().endsWith("(train.exchange_timeout_s): a worker stalled"), e.getMessage());
        assertEquals(List.of("1 0", "1 1"), attempts());
        assertTrue(System.nanoTime() - start < 30e9);
    }
}
