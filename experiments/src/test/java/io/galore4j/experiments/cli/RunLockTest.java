package io.galore4j.experiments.cli;

import static io.galore4j.experiments.cli.Cli.run;
import static io.galore4j.experiments.cli.UserErrors.assertOneLine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.galore4j.trainer.run.RunDirectory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One process per run directory: while another process holds a run directory (a live training
 * run, or a process that only holds the lock), train --resume, train --force, finetune --force and
 * sweep are refused in one line naming the holder's process id, and change nothing; once the
 * holder is gone, however it ended, the directory is free.
 */
class RunLockTest {

    @TempDir static Path dir;
    static Path corpus;

    @BeforeAll
    static void corpus() throws IOException {
        corpus = Cli.corpus(dir);
    }

    private static List<String> sets(String... more) {
        return Cli.oneLayerSets(corpus, List.of("optim.rank=8", "train.warmup=1", "train.log_every=1"), more);
    }

    private static String[] args(List<String> head, List<String> sets) {
        List<String> a = new ArrayList<>(head);
        a.addAll(sets);
        return a.toArray(String[]::new);
    }

    private static Path trained(String name) {
        Path run = dir.resolve(name);
        Cli.Result r = run(args(List.of("train", "--out", run.toString()), sets("train.steps=2")));
        assertEquals(0, r.code(), r.err());
        return run;
    }

    /** The commands that would write into {@code run}, each expected to be refused naming {@code pid}. */
    private static void assertAllRefused(Path run, long pid) throws IOException {
        TreeHashes before = TreeHashes.of(run);
        String busy = "run directory " + run + " is in use by process " + pid;
        assertOneLine(2, run(args(List.of("train", "--resume", run.toString()), List.of("--set", "train.steps=4"))), busy);
        assertOneLine(2, run(args(List.of("train", "--out", run.toString(), "--force"), sets("train.steps=2"))), busy);
        assertOneLine(2, run("finetune", "--method", "qzo", "--from", trained("source-" + pid).toString(),
                "--out", run.toString(), "--force", "--set", "data.path=" + corpus, "--set", "train.steps=1",
                "--set", "train.batch_size=4", "--set", "train.eval_batches=1"), busy);
        before.assertUnchanged();
    }

    private static ChildJvm holdLock(Path run) throws Exception {
        ChildJvm holder = ChildJvm.start(dir.resolve("logs"), "holder-" + run.getFileName(),
                ChildJvm.command(HoldRunLock.class.getName(), List.of(run.toString())));
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!holder.stdout().contains("locked")) {
            assertTrue(holder.process.isAlive() && System.nanoTime() < deadline, "the holder took the lock: "
                    + holder.stderr());
            Thread.sleep(10);
        }
        return holder;
    }

    @Test
    void aDirectoryHeldByAnotherProcessIsRefusedUntilThatProcessEnds() throws Exception {
        Path run = trained("held");
        try (ChildJvm holder = holdLock(run)) {
            assertAllRefused(run, holder.process.pid());
        } // killed (SIGKILL): the kernel releases the lock
        Cli.Result r = run("train", "--resume", run.toString(), "--set", "train.steps=4");
        assertEquals(0, r.code(), r.err());
    }

    @Test
    void aLiveTrainingRunHoldsItsDirectory() throws Exception {
        Path live = dir.resolve("live");
        try (ChildJvm child = ChildJvm.galore(dir.resolve("logs"), "live",
                List.of(args(List.of("train", "--out", live.toString()), sets("train.steps=100000"))))) {
            assertTrue(child.awaitStep(live, 1, 60) >= 1, child.stderr());
            Path config = live.resolve(RunDirectory.CONFIG);
            String before = TreeHashes.sha256(config);
            String busy = "run directory " + live + " is in use by process " + child.process.pid();
            assertOneLine(2, run("train", "--resume", live.toString()), busy);
            assertOneLine(2, run(args(List.of("train", "--out", live.toString(), "--force"), sets("train.steps=2"))), busy);
            assertEquals(before, TreeHashes.sha256(config), "config.yaml is not rewritten");
            assertTrue(child.process.isAlive(), "the live run goes on");
        }
    }

    @Test
    void aSweepDoesNotStartARunAnotherProcessHolds() throws Exception {
        Path sweep = dir.resolve("sweep");
        List<String> head = List.of("sweep", "--out", sweep.toString(), "--grid", "optim.method=adamw");
        Cli.Result r = run(args(head, sets("train.steps=2")));
        assertEquals(0, r.code(), r.err());
        Path run;
        try (Stream<Path> s = Files.list(sweep)) {
            run = s.filter(RunDirectory::isRun).findFirst().orElseThrow();
        }
        Files.delete(run.resolve(RunDirectory.SUMMARY)); // as if it had not finished
        try (ChildJvm holder = holdLock(run)) {
            TreeHashes before = TreeHashes.of(sweep);
            assertOneLine(2, run(args(head, sets("train.steps=2"))),
                    "run directory " + run + " is in use by process " + holder.process.pid());
            before.assertUnchanged();
        }
    }
}
