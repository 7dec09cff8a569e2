package io.galore4j.experiments.cli;

import static io.galore4j.experiments.cli.Cli.run;
import static io.galore4j.experiments.cli.UserErrors.assertOneLine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.galore4j.trainer.run.RunLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A user's files are never replaced without --force: {@code train --out} and {@code finetune --out}
 * take only an absent or empty directory (a stale lock file aside), refuse a run (pointing to
 * --resume) or any other non-empty directory in one line, and with --force keep every file a run
 * does not write; {@code report --out}, {@code plot --out} and {@code export --to} refuse an
 * existing file.
 */
class OutDirectoryTest {

    @TempDir static Path dir;
    static Path corpus;
    static Path base;

    private static final List<String> TINY = List.of("model.hidden=32", "model.layers=1", "model.heads=2",
            "model.intermediate=48", "model.seq_len=16", "optim.rank=8", "train.batch_size=4", "train.warmup=1",
            "train.eval_batches=1");

    private static String[] command(List<String> head, String... sets) {
        List<String> a = new ArrayList<>(head);
        List<String> all = new ArrayList<>(TINY);
        all.add("data.path=" + corpus);
        all.addAll(List.of(sets));
        for (String s : all) {
            a.add("--set");
            a.add(s);
        }
        return a.toArray(String[]::new);
    }

    private static String[] train(Path out, String... flags) {
        List<String> head = new ArrayList<>(List.of("train", "--out", out.toString()));
        head.addAll(List.of(flags));
        return command(head, "train.steps=2");
    }

    private static String[] finetune(String method, Path out, String... flags) {
        List<String> head = new ArrayList<>(List.of("finetune", "--method", method, "--from", base.toString(),
                "--out", out.toString()));
        head.addAll(List.of(flags));
        return withSets(head, "data.path=" + corpus, "train.steps=1", "train.batch_size=4", "train.eval_batches=1");
    }

    private static String[] withSets(List<String> head, String... sets) {
        List<String> a = new ArrayList<>(head);
        for (String s : sets) {
            a.add("--set");
            a.add(s);
        }
        return a.toArray(String[]::new);
    }

    @BeforeAll
    static void baseRun() throws Exception {
        corpus = Cli.corpus(dir);
        base = dir.resolve("base");
        Cli.Result r = run(command(List.of("train", "--out", base.toString()), "train.steps=2"));
        assertEquals(0, r.code(), r.err());
    }

    /** A Hugging Face directory as `galore export` writes it, with a file of the user's beside it. */
    private static Path exported(String name) throws Exception {
        Path hf = dir.resolve(name);
        Files.createDirectories(hf);
        Cli.Result r = run("export", "--run", base.toString(), "--to", hf.resolve("model.safetensors").toString());
        assertEquals(0, r.code(), r.err());
        Files.writeString(hf.resolve("notes.txt"), "my notes");
        return hf;
    }

    @Test
    void anExportedModelDirectoryIsRefusedInOneLineAndNothingInItChanges() throws Exception {
        Path hf = exported("hf");
        TreeHashes before = TreeHashes.of(hf);
        String refusal = "--out " + hf + " is not empty (holds config.json, model.safetensors, notes.txt); "
                + "choose another directory or pass --force";
        assertOneLine(2, run(train(hf)), refusal);
        before.assertUnchanged();
        for (String method : new String[] {"qzo", "adamw"}) {
            assertOneLine(2, run(finetune(method, hf)), refusal);
            before.assertUnchanged();
        }
        // more than three entries: the first three by name, then how many more
        Files.writeString(hf.resolve("tokenizer.json"), "{}");
        assertOneLine(2, run(train(hf)), "(holds config.json, model.safetensors, notes.txt and 1 more)");
    }

    @Test
    void forceInADirectoryWithoutARunReplacesOnlyTheFilesARunWrites() throws Exception {
        Path hf = exported("hf-forced");
        TreeHashes before = TreeHashes.of(hf);
        Cli.Result r = run(command(List.of("train", "--out", hf.toString(), "--force"), "train.steps=3"));
        assertEquals(0, r.code(), r.err());
        assertEquals(before.hashes().get("notes.txt"), TreeHashes.sha256(hf.resolve("notes.txt")), "the user's file is kept");
        assertNotEquals(before.hashes().get("model.safetensors"), TreeHashes.sha256(hf.resolve("model.safetensors")),
                "the run wrote its own model");
        assertTrue(Files.isRegularFile(hf.resolve("summary.json")));

        // a checkpoints/ that belongs to no run is not the run's to prune: refused even with --force
        Path foreign = exported("foreign-checkpoints");
        Files.createDirectories(foreign.resolve("checkpoints/step-00000001"));
        Files.writeString(foreign.resolve("checkpoints/step-00000001/state.safetensors"), "someone's");
        TreeHashes kept = TreeHashes.of(foreign);
        assertOneLine(2, run(train(foreign, "--force")), "--out " + foreign + " holds " + foreign.resolve("checkpoints"),
                "but no run", "move checkpoints/ away");
        kept.assertUnchanged();
    }

    @Test
    void aRunDirectoryIsRefusedWithTheWayToResumeOrReplaceIt() throws Exception {
        TreeHashes before = TreeHashes.of(base);
        assertOneLine(2, run(train(base)), "--out " + base + " already holds a run", "--resume " + base, "--force");
        assertOneLine(2, run(finetune("qzo", base)), "--out " + base + " already holds a run");
        before.assertUnchanged();
    }

    @Test
    void anEmptyDirectoryOrOneHoldingOnlyAStaleLockIsUsed() throws Exception {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertEquals(0, run(train(empty)).code());
        Path stale = Files.createDirectories(dir.resolve("stale-lock"));
        Files.writeString(stale.resolve(RunLock.FILE), "999999\n"); // left by a process that ended
        Cli.Result r = run(train(stale));
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.isRegularFile(stale.resolve("summary.json")));
        // the lock file does not hide the run from report
        Cli.Result report = run("report", stale.toString());
        assertEquals(0, report.code(), report.err());
        assertTrue(report.out().contains("q-galore"), report.out());
    }

    @Test
    void reportPlotAndExportRefuseToReplaceAnExistingFile() throws Exception {
        Path mine = Files.createDirectories(dir.resolve("mine"));
        Path table = mine.resolve("table.md");
        Files.writeString(table, "my table");
        Files.writeString(mine.resolve("loss-step.png"), "my picture");
        Files.writeString(mine.resolve("model.safetensors"), "my model");
        TreeHashes before = TreeHashes.of(mine);

        assertOneLine(2, run("report", base.toString(), "--out", table.toString()),
                "--out " + table + " exists; pass --force to replace it");
        assertOneLine(2, run("plot", base.toString(), "--out", mine.toString()),
                "--out " + mine + " already holds loss-step.png", "--force");
        assertOneLine(2, run("export", "--run", base.toString(), "--to", mine.resolve("model.safetensors").toString()),
                mine.resolve("model.safetensors") + " exists; pass --force");
        before.assertUnchanged();

        Cli.Result forced = run("report", base.toString(), "--out", table.toString(), "--force");
        assertEquals(0, forced.code(), forced.err());
        assertEquals(forced.out(), Files.readString(table), "--force replaces the file with the table");
        assertEquals(0, run("plot", base.toString(), "--out", mine.toString(), "--force").code());
        assertNotEquals("my picture", Files.readString(mine.resolve("loss-step.png"), java.nio.charset.StandardCharsets.ISO_8859_1));
    }
}
