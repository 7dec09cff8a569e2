package io.galore4j.experiments.cli;

import static io.galore4j.experiments.cli.Cli.run;
import static io.galore4j.experiments.cli.UserErrors.assertOneLine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A file that cannot be written ends the command with one line naming it and the system's reason,
 * exit code 2, and the run's previous checkpoint intact and current: a directory where a file is,
 * a place nobody may write (even root), a file-size limit reached while writing a checkpoint, and
 * a full disk (a small tmpfs, where this machine lets the test mount one).
 */
class IoFailureTest {

    @TempDir static Path dir;
    static Path corpus;

    @BeforeAll
    static void corpus() throws IOException {
        corpus = Cli.corpus(dir);
    }

    /** AdamW on a tiny model: its checkpoint (fp32 weights and two moments) is about 300 KB. */
    private static List<String> args(List<String> head, String... more) {
        List<String> a = new ArrayList<>(head);
        a.addAll(Cli.oneLayerSets(corpus, List.of("optim.method=adamw", "train.warmup=1", "train.ckpt_every=2"), more));
        return a;
    }

    private static Path trained(Path run) {
        Cli.Result r = run(args(List.of("train", "--out", run.toString()), "train.steps=2").toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        return run;
    }

    @Test
    void anOutputDirectoryUnderAFileOrWhereNobodyMayWriteIsOneLine() throws Exception {
        Path parent = Files.createDirectories(dir.resolve("under-a-file"));
        Path file = Files.writeString(parent.resolve("notes.txt"), "a file, not a directory");
        TreeHashes before = TreeHashes.of(parent);
        assertOneLine(2, run(args(List.of("train", "--out", file.resolve("run").toString()), "train.steps=2")
                .toArray(String[]::new)), "--out " + file.resolve("run") + ": " + file + " is a file, not a directory");
        Path source = trained(dir.resolve("report-source"));
        assertOneLine(2, run("report", source.toString(), "--out", file.resolve("report.md").toString()),
                "galore report: error: " + file);
        before.assertUnchanged();

        // /sys takes no new directory, whoever asks (root included)
        Path sys = Path.of("/sys/galore-io-failure-test/run");
        Assumptions.assumeTrue(Files.isDirectory(Path.of("/sys")) && !Files.exists(sys.getParent()));
        assertOneLine(2, run(args(List.of("train", "--out", sys.toString()), "train.steps=2").toArray(String[]::new)),
                "galore train: error: /sys/galore-io-failure-test");
    }

    @Test
    void aCheckpointThatCannotBeWrittenLeavesThePreviousOneCurrentAndIntact() throws Exception {
        Path run = trained(dir.resolve("size-limit"));
        TreeHashes checkpoints = TreeHashes.of(run.resolve("checkpoints"));
        long state = Files.size(run.resolve("checkpoints/step-00000002/state.safetensors"));
        // a file-size limit (RLIMIT_FSIZE) of half a checkpoint: the JVM gets EFBIG ("File too large")
        List<String> cmd = new ArrayList<>(List.of("bash", "-c", "ulimit -f " + state / 2 / 1024 + " && exec \"$@\"",
                "bash"));
        cmd.addAll(ChildJvm.command(Main.class.getName(), List.of("train", "--resume", run.toString(),
                "--set", "train.steps=4")));
        try (ChildJvm child = ChildJvm.start(dir.resolve("logs"), "size-limit", cmd)) {
            assertEquals(2, child.exitCode(120), child.stderr());
            assertOneLine(child.stderr(), "galore train: error: cannot write "
                    + run.resolve("checkpoints/step-00000004/state.safetensors") + ": File too large");
        }
        checkpoints.assertUnchanged(); // step 2 untouched and named by latest; no temporary files left
        Cli.Result resumed = run("train", "--resume", run.toString(), "--set", "train.steps=4");
        assertEquals(0, resumed.code(), resumed.err());
    }

    @Test
    void aFullDiskIsOneLineAndThePreviousCheckpointStaysCurrent() throws Exception {
        Path mnt = Files.createDirectories(dir.resolve("tmpfs"));
        Assumptions.assumeTrue(sh("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", mnt.toString()) == 0,
                "mounting a tmpfs is not allowed here");
        try {
            Path run = trained(mnt.resolve("run"));
            TreeHashes checkpoints = TreeHashes.of(run.resolve("checkpoints"));
            long state = Files.size(run.resolve("checkpoints/step-00000002/state.safetensors"));
            FileStore store = Files.getFileStore(mnt);
            long used = store.getTotalSpace() - store.getUsableSpace();
            long size = (used + state / 2 + 4095) / 4096 * 4096; // room for the logs, not for another checkpoint
            assertEquals(0, sh("mount", "-o", "remount,size=" + size, mnt.toString()));
            Cli.Result r = run("train", "--resume", run.toString(), "--set", "train.steps=4");
            assertOneLine(2, r, "galore train: error: cannot write "
                    + run.resolve("checkpoints/step-00000004/state.safetensors") + ": No space left on device");
            checkpoints.assertUnchanged();
        } finally {
            assertEquals(0, sh("umount", mnt.toString()));
        }
    }

    private static int sh(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return p.exitValue();
    }
}
