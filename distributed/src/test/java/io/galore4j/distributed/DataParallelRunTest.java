package io.galore4j.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.run.RunDirectory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real worker ({@code ReplicaRun}) under the launcher: two workers as threads of this JVM
 * ({@code local[2]}) against two worker JVMs ({@code local-cluster}) of which one is killed with
 * SIGKILL after the checkpoint of step 12. The killed run must restart itself from that checkpoint
 * and end with the same metrics and, bit for bit, the same model as the uninterrupted run.
 */
class DataParallelRunTest {

    private static final int STEPS = 18;
    private static final String KILL_AFTER = "step-00000012";

    @TempDir
    Path tmp;

    @Test
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void aRunWhoseWorkerIsKilledRestartsAndEndsAsAnUninterruptedRun() throws Exception {
        Path corpus = TinyRun.corpus(tmp);
        Path threads = tmp.resolve("local");
        String printed = TinyRun.launch(TinyRun.settings(corpus, STEPS, "train.master=local[2]"), threads);
        assertTrue(printed.contains("done: " + STEPS + " steps"), printed);

        Path jvms = tmp.resolve("cluster");
        AtomicLong killed = new AtomicLong(-1);
        Thread killer = new Thread(() -> killAfterCheckpoint(jvms, killed), "test-killer");
        killer.setDaemon(true);
        killer.start();
        ConfigTree cluster = TinyRun.settings(corpus, STEPS, "train.max_restarts=2", "train.ckpt_every=4");
        printed = TinyRun.launch(cluster, jvms);
        killer.join(5000);

        assertTrue(killed.get() > 0, "no worker was killed: the run ended before the checkpoint " + KILL_AFTER);
        assertNotEquals(ProcessHandle.current().pid(), killed.get());
        assertTrue(printed.contains("; restarting the 2 workers from the latest checkpoint (restart 1 of 2)"), printed);
        assertTrue(printed.contains("done: " + STEPS + " steps"), printed);
        for (String file : List.of(RunDirectory.CONFIG, RunDirectory.METRICS, RunDirectory.SUMMARY, "model.safetensors",
                "workers/rank-0.log", "workers/rank-1.log", "workers/partition-0.pid", "workers/partition-1.pid")) {
            assertTrue(Files.isRegularFile(jvms.resolve(file)), file);
        }
        assertEquals(TinyRun.losses(threads), TinyRun.losses(jvms));
        assertArrayEquals(Files.readAllBytes(threads.resolve("model.safetensors")),
                Files.readAllBytes(jvms.resolve("model.safetensors")));
        // every worker JVM is gone once the launcher returned
        for (String p : List.of("partition-0.pid", "partition-1.pid")) {
            long pid = Long.parseLong(Files.readString(jvms.resolve("workers").resolve(p)).strip().split(" ")[1]);
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "worker " + pid + " still runs");
        }
    }

    /** Waits for the checkpoint {@link #KILL_AFTER}, then kills partition 1's JVM with SIGKILL. */
    private static void killAfterCheckpoint(Path run, AtomicLong killed) {
        try {
            Path checkpoint = run.resolve("checkpoints").resolve(KILL_AFTER);
            Path pidFile = run.resolve("workers/partition-1.pid");
            for (long end = System.nanoTime() + 200_000_000_000L; System.nanoTime() < end; Thread.sleep(20)) {
                if (Files.isDirectory(checkpoint) && Files.isRegularFile(pidFile)) {
                    long pid = Long.parseLong(Files.readString(pidFile).strip().split(" ")[1]);
                    if (pid != ProcessHandle.current().pid()) {
                        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly); // SIGKILL on Linux
                        killed.set(pid);
                    }
                    return;
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
