package io.galore4j.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.galore4j.experiments.SweepPlan;
import io.galore4j.trainer.run.Checkpoints;
import io.galore4j.trainer.run.RunDirectory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code galore sweep}: every combination runs, the report covers them, and an interrupted sweep resumes. */
class SweepTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir static Path root;
    static Path corpus;
    static Path sweep;

    /** Shared settings of a tiny model: 4 steps, a checkpoint every 2. */
    private static List<String> args(Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("sweep", "--out", out.toString()));
        for (String s : new String[] {"data.path=" + corpus, "model.hidden=32", "model.layers=1", "model.heads=2",
                "model.intermediate=48", "model.seq_len=16", "optim.rank=8", "optim.refresh_gap=2", "train.steps=4",
                "train.batch_size=4", "train.warmup=1", "train.eval_every=2", "train.eval_batches=1",
                "train.log_every=1", "train.ckpt_every=2", "train.keep_ckpts=2"}) {
            a.add("--set");
            a.add(s);
        }
        a.addAll(List.of(more));
        return a;
    }

    private static Cli.Result sweep(Path out, String... grid) {
        return Cli.run(args(out, grid).toArray(String[]::new));
    }

    @BeforeAll
    static void twoRuns() throws Exception {
        corpus = root.resolve("corpus.txt");
        Files.writeString(corpus, "the quick brown fox jumps over the lazy dog. ".repeat(400));
        sweep = root.resolve("sweep");
        Cli.Result r = sweep(sweep, "--grid", "optim.method=adamw,sgd");
        assertEquals(0, r.code(), r.err());
    }

    @Test
    void everyCombinationRunsInItsOwnDirectoryAndTheReportCoversThem() throws Exception {
        assertTrue(Files.isRegularFile(sweep.resolve(SweepPlan.FILE)));
        String report = Files.readString(sweep.resolve(SweepCommand.REPORT));
        for (String[] run : new String[][] {{"1_method=adamw", "adamw"}, {"2_method=sgd", "sgd"}}) {
            Map<?, ?> summary = JSON.readValue(sweep.resolve(run[0]).resolve(RunDirectory.SUMMARY).toFile(), Map.class);
            assertEquals(run[1], summary.get("method"));
            assertEquals(4, ((Number) summary.get("steps")).intValue());
            String row = report.lines().filter(l -> l.contains(run[0])).findFirst().orElseThrow(
                    () -> new AssertionError("no report row for " + run[0] + ":\n" + report));
            assertTrue(row.contains(String.format(java.util.Locale.ROOT, "%.4f", ((Number) summary.get("val_loss")).doubleValue())), row);
        }
        try (Stream<Path> plots = Files.list(sweep.resolve("plots"))) {
            assertTrue(plots.anyMatch(p -> p.toString().endsWith(".png")), "no PNG in the sweep's plots/");
        }
    }

    @Test
    void anInterruptedSweepKeepsFinishedRunsAndResumesTheOtherExactly() throws Exception {
        Path copy = root.resolve("interrupted");
        copyTree(sweep, copy);
        Path first = copy.resolve("1_method=adamw");
        Path second = copy.resolve("2_method=sgd");
        List<String> straight = Files.readAllLines(second.resolve(RunDirectory.METRICS));
        // as if killed during step 3 or 4: no summary, the step-4 checkpoint never written
        Files.delete(second.resolve(RunDirectory.SUMMARY));
        Path checkpoints = second.resolve(Checkpoints.DIR);
        deleteTree(checkpoints.resolve(Checkpoints.name(4)));
        Files.writeString(checkpoints.resolve(Checkpoints.LATEST), Checkpoints.name(2));
        FileTime kept = FileTime.fromMillis(1_000_000L);
        Files.setLastModifiedTime(first.resolve(RunDirectory.SUMMARY), kept);

        Cli.Result r = sweep(copy, "--grid", "optim.method=adamw,sgd");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("1_method=adamw (optim.method=adamw): finished earlier, kept"), r.out());
        assertTrue(r.out().contains("2_method=sgd (optim.method=sgd): resuming from its latest checkpoint"), r.out());
        assertEquals(kept, Files.getLastModifiedTime(first.resolve(RunDirectory.SUMMARY)));
        assertEquals(losses(straight), losses(Files.readAllLines(second.resolve(RunDirectory.METRICS))));
        assertTrue(Files.isRegularFile(second.resolve(RunDirectory.SUMMARY)));

        // interrupted before its first checkpoint: the run starts over
        Files.delete(second.resolve(RunDirectory.SUMMARY));
        deleteTree(checkpoints);
        r = sweep(copy, "--grid", "optim.method=adamw,sgd");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("2_method=sgd (optim.method=sgd): interrupted before its first checkpoint, starting over"),
                r.out());
        assertEquals(losses(straight), losses(Files.readAllLines(second.resolve(RunDirectory.METRICS))));
    }

    @Test
    void badGridsAndForeignDirectoriesEndWithOneLineAndLeaveNothingBehind() throws Exception {
        Path out = root.resolve("bad");
        for (String[] grid : new String[][] {
                {"--grid", "train.no_such_key=1,2"},
                {"--grid", "optim.method=adamw,no-such-method"},
                {"--grid", "optim.method="},
                {"--grid", "optim.method=adamw,,sgd"},
                {"--grid", "train.steps=2", "--grid", "train.steps=3"},
                {"--grid", "optim.method"}}) {
            Cli.Result r = sweep(out, grid);
            assertEquals(Main.USER_ERROR, r.code(), String.join(" ", grid) + ": " + r.out() + r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.err().startsWith("galore sweep: error: "), r.err());
            assertFalse(Files.exists(out), "a refused sweep created " + out);
        }

        Path foreign = root.resolve("foreign");
        Files.createDirectories(foreign);
        Files.writeString(foreign.resolve("notes.txt"), "keep me");
        Cli.Result r = sweep(foreign, "--grid", "optim.method=adamw");
        assertEquals(Main.USER_ERROR, r.code(), r.err());
        assertTrue(r.err().contains("is not a sweep directory"), r.err());
        assertEquals("keep me", Files.readString(foreign.resolve("notes.txt")));

        r = sweep(sweep, "--grid", "optim.method=adamw,lion");
        assertEquals(Main.USER_ERROR, r.code(), r.err());
        assertTrue(r.err().contains("holds a different sweep"), r.err());
        assertFalse(Files.exists(sweep.resolve("2_method=lion")));
    }

    @Test
    void everyCombinationIsResolvedBeforeTheFirstRunNamingTheOneThatFails() throws Exception {
        Path out = root.resolve("unresolvable");
        String[][] cases = {
            // the second combination's rank exceeds the 32 × 32 attention matrices
            {"2_rank=64 (optim.rank=64): optim.rank 64 exceeds min(m, n) = 32 of model.layers.0.self_attn.q_proj.weight",
                "--grid", "optim.rank=8,64"},
            // a per-layer rank that only the smaller model cannot take
            {"2_hidden=16 (model.hidden=16): optim.layers[0] (match '.*q_proj.*').rank 24 exceeds min(m, n) = 16",
                "--set", "optim.layers=[{match: '.*q_proj.*', rank: 24}]", "--grid", "model.hidden=32,16"},
            // a key that only some combinations accept
            {"1_refresh=fixed (optim.refresh=fixed): optim.lazy_window",
                "--set", "optim.lazy_window=3", "--grid", "optim.refresh=fixed,lazy"},
            // a corpus that only one combination reads
            {"2_path=", "--grid", "data.path=" + corpus + "," + root.resolve("no-such-corpus.txt")}};
        for (String[] c : cases) {
            String[] args = java.util.Arrays.copyOfRange(c, 1, c.length);
            Cli.Result r = sweep(out, args);
            assertEquals(Main.USER_ERROR, r.code(), String.join(" ", args) + ": " + r.out() + r.err());
            String err = r.err().strip();
            assertFalse(err.contains("\n"), "one line: " + err);
            assertTrue(err.startsWith("galore sweep: error: --grid, run " + c[0]), err);
            assertFalse(Files.exists(out), "a refused sweep created " + out);
        }
    }

    /** Each logged training step's loss, in order (eval lines included by step). */
    private static List<String> losses(List<String> metrics) throws IOException {
        List<String> out = new ArrayList<>();
        for (String line : metrics) {
            Map<?, ?> m = JSON.readValue(line, Map.class);
            if (m.containsKey("loss")) {
                out.add(m.get("step") + ":" + m.get("loss"));
            }
        }
        return out;
    }

    @Test
    void eachRunIsAChildJvmWhoseExitCodeTheSweepSees() throws Exception {
        // the child gets this JVM's options and class path: it finds the commands and reports their codes
        assertEquals(0, SweepCommand.runChild(List.of("--version")));
        assertEquals(Main.USER_ERROR, SweepCommand.runChild(List.of("memory", "--model", "13b")));
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) all.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }
}
