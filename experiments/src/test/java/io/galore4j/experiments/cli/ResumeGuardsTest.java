package io.galore4j.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code train --resume} guards against: a corpus that changed since the checkpoint, and a
 * damaged latest checkpoint when an older one is intact ({@code --from-step}). Tiny runs: 4 steps,
 * a checkpoint every 2.
 */
class ResumeGuardsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** train --out DIR (or --resume DIR with resume) on the tiny model with {@code more} arguments. */
    private static Cli.Result train(Path run, boolean resume, Path corpus, String... more) {
        List<String> args = new ArrayList<>(List.of("train", resume ? "--resume" : "--out", run.toString()));
        if (!resume) {
            args.addAll(Cli.tinyModel());
            for (String s : new String[] {"data.path=" + corpus, "optim.method=q-galore", "optim.rank=8",
                "optim.refresh_gap=2", "train.steps=4", "train.batch_size=4", "train.warmup=1", "train.eval_every=2",
                "train.eval_batches=1", "train.log_every=1", "train.ckpt_every=2", "train.keep_ckpts=2"}) {
                args.add("--set");
                args.add(s);
            }
        }
        args.addAll(List.of(more));
        return Cli.run(args.toArray(String[]::new));
    }

    @Test
    void aCorpusThatChangedSinceTheCheckpointIsRefusedNamingBothSizesAndHashes(@TempDir Path dir) throws Exception {
        Path corpus = Cli.corpus(dir);
        byte[] text = Files.readAllBytes(corpus);
        Path run = dir.resolve("run");
        assertEquals(0, train(run, false, corpus).code());
        String sha = sha256(text);
        for (Path json : List.of(run.resolve("checkpoints/step-00000004/trainer.json"), run.resolve("summary.json"))) {
            JsonNode recorded = JSON.readTree(json.toFile()).get("corpus");
            assertEquals(text.length, recorded.get("bytes").asLong(), json.toString());
            assertEquals(sha, recorded.get("sha256").asText(), json.toString());
        }
        Map<Path, byte[]> before = files(run);

        // text appended; then the same size with one byte changed
        byte[] longer = (new String(text, StandardCharsets.UTF_8) + "more.").getBytes(StandardCharsets.UTF_8);
        byte[] edited = text.clone();
        edited[100] = 'X';
        for (byte[] now : List.of(longer, edited)) {
            Files.write(corpus, now);
            Cli.Result r = train(run, true, corpus, "--set", "train.steps=6");
            assertEquals(2, r.code(), r.err());
            String err = r.err().strip();
            assertFalse(err.contains("\n"), "one line: " + err);
            assertTrue(err.contains("the corpus changed since the checkpoint " + run.resolve("checkpoints/step-00000004/trainer.json")
                    + ": data.path " + corpus + " had " + String.format("%,d", text.length) + " bytes sha256 "
                    + sha.substring(0, 16) + "…, now " + String.format("%,d", now.length) + " bytes sha256 "
                    + sha256(now).substring(0, 16) + "…"), err);
            assertFilesUnchanged(before, run);
        }

        // the same text again: the run continues
        Files.write(corpus, text);
        Cli.Result r = train(run, true, corpus, "--set", "train.steps=6");
        assertEquals(0, r.code(), r.err());
        assertEquals(6, JSON.readTree(run.resolve("summary.json").toFile()).get("steps").asInt());
    }

    @Test
    void aCheckpointWrittenBeforeCorpusHashesIsResumedWithAWarning(@TempDir Path dir) throws Exception {
        Path corpus = Cli.corpus(dir);
        Path run = dir.resolve("run");
        assertEquals(0, train(run, false, corpus).code());
        // as an older version wrote it: no corpus entry, and no data.allow_binary key in its settings
        Path ckpt = run.resolve("checkpoints/step-00000004");
        ObjectNode trainer = (ObjectNode) JSON.readTree(ckpt.resolve("trainer.json").toFile());
        trainer.remove("corpus");
        ((ObjectNode) trainer.get("config")).remove("data.allow_binary");
        Files.write(ckpt.resolve("trainer.json"), JSON.writeValueAsBytes(trainer));
        ObjectNode sums = (ObjectNode) JSON.readTree(ckpt.resolve("checksums.json").toFile());
        byte[] written = Files.readAllBytes(ckpt.resolve("trainer.json"));
        ((ObjectNode) sums.get("trainer.json")).put("bytes", written.length).put("sha256", sha256(written));
        Files.write(ckpt.resolve("checksums.json"), JSON.writeValueAsBytes(sums));

        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream stderr = System.err;
        Cli.Result r;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            r = train(run, true, corpus, "--set", "train.steps=6");
        } finally {
            System.setErr(stderr);
        }
        assertEquals(0, r.code(), r.err());
        List<String> warnings = err.toString(StandardCharsets.UTF_8).lines().filter(l -> l.contains("warning")).toList();
        assertEquals(1, warnings.size(), err.toString(StandardCharsets.UTF_8));
        assertTrue(warnings.get(0).startsWith("galore train: warning: " + ckpt.resolve("trainer.json")
                + " records no corpus size and hash"), warnings.get(0));
        // the checkpoints written since record it
        assertTrue(JSON.readTree(run.resolve("checkpoints/step-00000006/trainer.json").toFile()).has("corpus"));
    }

    @Test
    void aDamagedLatestCheckpointNamesTheIntactOlderOneAndFromStepContinuesFromIt(@TempDir Path dir) throws Exception {
        Path corpus = Cli.corpus(dir);
        Path run = dir.resolve("run");
        assertEquals(0, train(run, false, corpus).code());
        Path state = run.resolve("checkpoints/step-00000004/state.safetensors");
        byte[] original = Files.readAllBytes(state);
        byte[] flipped = original.clone();
        flipped[original.length / 2] ^= 0x10;
        byte[] truncated = java.util.Arrays.copyOf(original, original.length - 10);
        for (byte[] damaged : List.of(flipped, truncated)) {
            Files.write(state, damaged);
            Map<Path, byte[]> before = files(run);
            Cli.Result r = train(run, true, corpus, "--set", "train.steps=6");
            assertEquals(2, r.code(), r.err());
            String err = r.err().strip();
            assertFalse(err.contains("\n"), "one line: " + err);
            assertTrue(err.contains(damaged == flipped ? state + " does not match its SHA-256"
                    : state + " is " + damaged.length + " bytes but was written with " + original.length), err);
            assertTrue(err.contains("the checkpoint of step 2 is intact: continue from it with --resume " + run
                    + " --from-step 2"), err);
            assertFilesUnchanged(before, run);
        }
        byte[] damaged = truncated;
        Map<Path, byte[]> before = files(run);
        Cli.Result r;

        // a step with no checkpoint, and --from-step without --resume
        r = train(run, true, corpus, "--from-step", "3", "--set", "train.steps=6");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("no checkpoint of step 3") && r.err().contains("[2, 4]"), r.err());
        assertEquals(2, Cli.run("train", "--from-step", "2").code());
        assertFilesUnchanged(before, run);

        r = train(run, true, corpus, "--from-step", "2", "--set", "train.steps=6");
        assertEquals(0, r.code(), r.err());
        JsonNode summary = JSON.readTree(run.resolve("summary.json").toFile());
        assertEquals(6, summary.get("steps").asInt());
        assertEquals(2, summary.get("resumed_from_step").asInt());
        // the damaged checkpoint is set aside whole, not deleted; the run's own step 4 was written anew
        assertArrayEquals(damaged, Files.readAllBytes(run.resolve("checkpoints/set-aside/step-00000004/state.safetensors")));
        assertEquals("step-00000006", Files.readString(run.resolve("checkpoints/latest")).strip());
        assertTrue(Files.isRegularFile(run.resolve("checkpoints/step-00000006/checksums.json")));
        // each step logged once: the lines the first process wrote after step 2 were dropped
        List<Long> steps = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            steps.add(JSON.readTree(line).get("step").asLong());
        }
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L), steps);
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    /** Every file below {@code dir} with its bytes. */
    private static Map<Path, byte[]> files(Path dir) throws IOException {
        Map<Path, byte[]> all = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.filter(Files::isRegularFile)::iterator) {
                all.put(dir.relativize(p), Files.readAllBytes(p));
            }
        }
        return all;
    }

    private static void assertFilesUnchanged(Map<Path, byte[]> before, Path dir) throws IOException {
        Map<Path, byte[]> now = files(dir);
        assertEquals(before.keySet(), now.keySet(), "the same files");
        for (Map.Entry<Path, byte[]> e : before.entrySet()) {
            assertArrayEquals(e.getValue(), now.get(e.getKey()), e.getKey() + " unchanged");
        }
    }
}
