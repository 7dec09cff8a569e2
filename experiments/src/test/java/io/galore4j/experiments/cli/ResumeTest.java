package io.galore4j.experiments.cli;

import static io.galore4j.experiments.cli.Cli.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Exact resume: a run killed with SIGKILL after its step-20 checkpoint and resumed logs the same
 * losses, to the bit, as a run that was never stopped; damaged or foreign checkpoints are refused
 * without changing the run.
 */
class ResumeTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int STEPS = 40;

    private static List<String> settings(Path corpus, String method) {
        List<String> a = new ArrayList<>();
        for (String s : new String[] {"data.path=" + corpus, "optim.method=" + method,
            "model.hidden=64", "model.layers=2", "model.heads=2", "model.intermediate=96", "model.seq_len=32",
            "optim.rank=16", "optim.refresh_gap=8", "train.steps=" + STEPS, "train.batch_size=4", "train.warmup=4",
            "train.ckpt_every=20", "train.eval_every=20", "train.eval_batches=1", "train.log_every=1"}) {
            a.add("--set");
            a.add(s);
        }
        return a;
    }

    private static Path corpus(Path dir) throws IOException {
        Path text = dir.resolve("corpus.txt");
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 3000; i++) {
            b.append("line ").append(i % 97).append(": the quick brown fox jumps over the lazy dog ").append(i % 13).append(".\n");
        }
        Files.writeString(text, b);
        return text;
    }

    private static Cli.Result train(Path out, List<String> settings) {
        List<String> a = new ArrayList<>(List.of("train", "--out", out.toString()));
        a.addAll(settings);
        return run(a.toArray(String[]::new));
    }

    /** loss by step (the last line of each step wins, as a report reads it). */
    private static Map<Integer, String> losses(Path run) throws IOException {
        Map<Integer, String> m = new TreeMap<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            JsonNode n = JSON.readTree(line);
            m.put(n.get("step").asInt(), n.get("loss").asText() + (n.has("val_loss") ? " val " + n.get("val_loss").asText() : ""));
        }
        return m;
    }

    /** Starts `galore train` in a child JVM and kills it (SIGKILL) once its metrics reach {@code killAt}. */
    private static int trainAndKill(Path out, List<String> settings, int killAt) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx2g", "--add-opens", "java.base/java.nio=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "train", "--out", out.toString()));
        // the same BLAS as this JVM (MKL and OpenBLAS round differently)
        String blas = System.getProperty("org.bytedeco.openblas.load");
        if (blas != null) {
            cmd.add(1, "-Dorg.bytedeco.openblas.load=" + blas);
        }
        cmd.addAll(settings);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.resolveSibling("child.log").toFile())
                .start();
        Path metrics = out.resolve("metrics.jsonl");
        int last = 0;
        while (p.isAlive()) {
            if (Files.exists(metrics)) {
                List<String> lines = Files.readAllLines(metrics);
                if (!lines.isEmpty()) {
                    try {
                        last = JSON.readTree(lines.get(lines.size() - 1)).get("step").asInt();
                    } catch (IOException partialLine) {
                        // being written: read again
                    }
                }
                if (last >= killAt) {
                    p.destroyForcibly(); // SIGKILL: no shutdown hook, no flush, no cleanup
                    break;
                }
            }
            Thread.sleep(2);
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return last;
    }

    @ParameterizedTest
    @ValueSource(strings = {"adamw", "q-galore"})
    void aRunKilledAfterItsCheckpointResumesToTheSameLossesBitForBit(String method, @TempDir Path dir) throws Exception {
        Path corpus = corpus(dir);
        Path straight = dir.resolve("straight");
        Cli.Result a = train(straight, settings(corpus, method));
        assertEquals(0, a.code(), a.err());

        Path killed = dir.resolve("killed");
        int at = trainAndKill(killed, settings(corpus, method), 25);
        assertTrue(at >= 25 && at < STEPS, "killed between the checkpoint and the end, at step " + at);
        assertFalse(Files.exists(killed.resolve("checkpoints/step-00000040")), "killed before the end");
        assertTrue(Files.isDirectory(killed.resolve("checkpoints/step-00000020")));
        assertFalse(Files.exists(killed.resolve("summary.json")));
        // a kill while writing the step-30 checkpoint leaves only a hidden temporary directory
        Path partial = Files.createDirectories(killed.resolve("checkpoints/.step-00000030.5f3a.tmp"));
        Files.write(partial.resolve("state.safetensors"), new byte[] {1, 2, 3});

        Cli.Result r = run("train", "--resume", killed.toString());
        assertEquals(0, r.code(), r.err());
        assertFalse(Files.exists(partial), "the partial checkpoint is cleaned up");

        Map<Integer, String> expected = losses(straight);
        Map<Integer, String> resumed = losses(killed);
        assertEquals(expected.keySet(), resumed.keySet(), "a line per step, each once");
        for (int step = 21; step <= STEPS; step++) {
            assertEquals(expected.get(step), resumed.get(step), method + " step " + step);
        }
        assertArrayEquals(Files.readAllBytes(straight.resolve("model.safetensors")),
                Files.readAllBytes(killed.resolve("model.safetensors")), "the final weights are identical");
        assertEquals(List.of("step-00000020", "step-00000040"), ckpts(killed), "the newest two are kept");
        JsonNode whole = JSON.readTree(straight.resolve("summary.json").toFile());
        JsonNode summary = JSON.readTree(killed.resolve("summary.json").toFile());
        assertFalse(whole.has("resumed_from_step"));
        assertEquals(20, summary.get("resumed_from_step").asInt(), summary.toString());
        assertEquals(whole.get("tokens").asLong(), summary.get("tokens").asLong(), "tokens of both processes");
        // wall_s counts the first process's training loop (recorded at step 20) as well
        double before = 0;
        for (String line : Files.readAllLines(killed.resolve("metrics.jsonl"))) {
            JsonNode n = JSON.readTree(line);
            if (n.get("step").asInt() == 20) {
                before = n.get("elapsed_s").asDouble();
            }
        }
        assertTrue(before > 0 && summary.get("wall_s").asDouble() > before, summary.toString());
    }

    private static List<String> ckpts(Path run) throws IOException {
        try (var s = Files.list(run.resolve("checkpoints"))) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("step-")).sorted().toList();
        }
    }

    @Test
    void damagedOrForeignCheckpointsAreRefusedNamingTheFileAndNothingChanges(@TempDir Path dir) throws Exception {
        Path corpus = corpus(dir);
        List<String> s = new ArrayList<>(settings(corpus, "q-galore"));
        s.addAll(List.of("--set", "train.steps=20", "--set", "train.ckpt_every=10"));
        Path runDir = dir.resolve("run");
        assertEquals(0, train(runDir, s).code());
        Path state = runDir.resolve("checkpoints/step-00000020/state.safetensors");
        byte[] metrics = Files.readAllBytes(runDir.resolve("metrics.jsonl"));
        byte[] original = Files.readAllBytes(state);

        // a flipped bit
        try (RandomAccessFile f = new RandomAccessFile(state.toFile(), "rw")) {
            f.seek(original.length / 2);
            int b = f.read();
            f.seek(original.length / 2);
            f.write(b ^ 0x10);
        }
        expectRefusal(runDir, metrics, "state.safetensors", "--set", "train.steps=30");
        // truncated
        Files.write(state, java.util.Arrays.copyOf(original, original.length - 100));
        expectRefusal(runDir, metrics, "state.safetensors", "--set", "train.steps=30");
        Files.write(state, original);
        // other settings than the checkpoint's
        expectRefusal(runDir, metrics, "optim.rank", "--set", "optim.rank=8");
        // a checkpoint of another run (adamw) copied in
        Path other = dir.resolve("other");
        List<String> o = new ArrayList<>(settings(corpus, "adamw"));
        o.addAll(List.of("--set", "train.steps=10"));
        assertEquals(0, train(other, o).code());
        Path foreign = runDir.resolve("checkpoints/step-00000020");
        for (String f : new String[] {"state.safetensors", "trainer.json", "checksums.json"}) {
            Files.copy(other.resolve("checkpoints/step-00000010").resolve(f), foreign.resolve(f),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        expectRefusal(runDir, metrics, "optim.method", "--set", "train.steps=30");
        // not a run, no checkpoint, and --out on an existing run
        assertEquals(2, run("train", "--resume", dir.resolve("nothing").toString()).code());
        Cli.Result exists = train(runDir, s);
        assertEquals(2, exists.code());
        assertTrue(exists.err().contains("--resume"), exists.err());
        assertArrayEquals(metrics, Files.readAllBytes(runDir.resolve("metrics.jsonl")));
    }

    private static void expectRefusal(Path runDir, byte[] metrics, String names, String... extra) throws IOException {
        List<String> a = new ArrayList<>(List.of("train", "--resume", runDir.toString()));
        a.addAll(List.of(extra));
        Cli.Result r = run(a.toArray(String[]::new));
        assertEquals(2, r.code(), r.err());
        String err = r.err().strip();
        assertFalse(err.contains("\n"), "one line: " + err);
        assertTrue(err.contains(names), "names " + names + ": " + err);
        assertArrayEquals(metrics, Files.readAllBytes(runDir.resolve("metrics.jsonl")), "the run's files are unchanged");
    }
}
