package io.galore4j.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line's contract: help works, and every user error is one line with exit code 2. */
class MainTest {

    private static Cli.Result run(String... args) {
        return Cli.run(args);
    }

    @Test
    void helpListsTheTrainCommand() {
        Cli.Result r = run("--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("train"), r.out());
        assertEquals(0, run("train", "--help").code());
    }

    @Test
    void unknownCommandsAndOptionsExitWith2() {
        assertEquals(2, run("bogus").code());
        assertEquals(2, run("--bogus").code());
        assertEquals(2, run("train", "--bogus").code());
    }

    @Test
    void badSettingsEndInOneLineNamingTheKeyAndWriteNothing(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        Path malformed = dir.resolve("bad.yaml");
        Files.writeString(malformed, "train:\n  steps: [1, 2\n");
        Path empty = dir.resolve("empty.txt");
        Files.writeString(empty, "");
        String[][] cases = {
            {"--config", malformed.toString()},
            {"--set", "optim.lr=0"},
            {"--set", "optim.lr=-0.1"},
            {"--set", "optim.rank=100000"},
            {"--set", "optim.m_codec=int3"},
            {"--set", "optim.refresh=sometimes"},
            {"--set", "data.path=" + empty},
            {"--set", "train.ckpt_every=-1"},
            {"--set", "train.stepz=3"},
            {"--set", "train.steps=0"},
            {"--set", "optim.method=adam"},
            {"--set", "optim.rank=0"},
            {"--set", "model.preset=3b"},
            {"--set", "data.path=" + dir.resolve("missing.txt")},
            {"--set", "data.tokenizer=bpe"},
            {"--set", "data.tokenizer=gpt2", "--set", "model.vocab=32000"},
            {"--set", "train.blas_threads=-1"},
            {"--set", "train.compute=fp16"},
        };
        String[] keys = {"bad.yaml", "optim.lr", "optim.lr", "rank", "m_codec", "refresh", "data.path", "train.ckpt_every",
            "train.stepz", "train.steps", "optim.method", "optim.rank", "model.preset", "data.path",
            "data.tokenizer", "model.vocab", "train.blas_threads", "train.compute"};
        for (int i = 0; i < cases.length; i++) {
            String[] args = new String[cases[i].length + 3];
            args[0] = "train";
            System.arraycopy(cases[i], 0, args, 1, cases[i].length);
            args[args.length - 2] = "--out";
            args[args.length - 1] = out.toString();
            Cli.Result r = run(args);
            assertEquals(2, r.code(), String.join(" ", cases[i]) + ": " + r.err());
            String err = r.err().strip();
            assertFalse(err.contains("\n"), "one line: " + err);
            assertTrue(err.contains(keys[i]), "names " + keys[i] + ": " + err);
            assertFalse(Files.exists(out), "nothing written for " + String.join(" ", cases[i]));
        }
    }

    @Test
    void aTinyTrainingRunWritesEveryRunFile(@TempDir Path dir) throws Exception {
        Path text = Cli.corpus(dir);
        Path out = dir.resolve("run");
        Cli.Result r = run(Cli.withTinyModel(List.of("train", "--out", out.toString(), "--set", "data.path=" + text),
                "--set", "optim.rank=8", "--set", "optim.refresh_gap=2",
                "--set", "train.steps=4", "--set", "train.batch_size=4", "--set", "train.warmup=1",
                "--set", "train.eval_every=2", "--set", "train.eval_batches=1", "--set", "train.log_every=1",
                "--set", "train.blas_threads=2", "--set", "train.compute=bf16"));
        assertEquals(0, r.code(), r.err());
        for (String f : new String[] {"config.yaml", "metrics.jsonl", "subspace.jsonl", "summary.json",
            "model.safetensors", "config.json"}) {
            assertTrue(Files.size(out.resolve(f)) > 0, f + " written");
        }
        assertEquals(4, Files.readAllLines(out.resolve("metrics.jsonl")).size(), "a line per step");
        com.fasterxml.jackson.databind.JsonNode summary =
                new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertEquals("q-galore", summary.get("method").asText());
        assertEquals(4 * 4 * 16, summary.get("tokens").asLong());
        assertEquals(2, summary.get("blas_threads").asInt(), "train.blas_threads reached the BLAS");
        assertEquals("bf16", summary.get("compute").asText(), "train.compute reached the model");
        assertEquals(System.getProperty("org.bytedeco.openblas.load", "openblas"), summary.get("blas").asText());
        assertTrue(summary.get("svd_count").asLong() >= 14, "every GaLore weight refreshed at step 0");
        assertTrue(Double.isFinite(summary.get("val_loss").asDouble()));
        // 2 layers, H 32, I 48, V 256, T 16: 6·(2·(4·32² + 3·32·48) + 256·32) + 12·2·32·16
        assertEquals(6.0 * (2 * (4 * 32 * 32 + 3 * 32 * 48) + 256 * 32) + 12.0 * 2 * 32 * 16,
                summary.get("flops_per_token").asDouble());
        assertEquals(summary.get("flops_per_token").asDouble() * summary.get("tokens_per_s").asDouble() / 1e9,
                summary.get("gflops_per_s").asDouble(), 1e-9 * summary.get("gflops_per_s").asDouble());
        com.fasterxml.jackson.databind.JsonNode memory = summary.get("memory");
        long sum = 0;
        for (String k : io.galore4j.trainer.MemoryEstimate.COMPONENTS) {
            assertTrue(memory.get(k).asLong() > 0 || k.equals("exchange_buffers"), k); // 0: one process
            sum += memory.get(k).asLong();
        }
        assertEquals(sum, memory.get("total_bytes").asLong());
        // q-galore stores the seven projection kinds in INT8, the embedding, head and norms in fp32
        com.fasterxml.jackson.databind.JsonNode formats = summary.get("weight_formats");
        List<String> int8 = new java.util.ArrayList<>();
        formats.get("int8").get("names").forEach(n -> int8.add(n.asText()));
        assertEquals(List.of("model.layers.*.mlp.down_proj.weight", "model.layers.*.mlp.gate_proj.weight",
                "model.layers.*.mlp.up_proj.weight", "model.layers.*.self_attn.k_proj.weight",
                "model.layers.*.self_attn.o_proj.weight", "model.layers.*.self_attn.q_proj.weight",
                "model.layers.*.self_attn.v_proj.weight"), int8);
        assertEquals(14, formats.get("int8").get("parameters").asInt(), "7 per layer, 2 layers");
        List<String> fp32 = new java.util.ArrayList<>();
        formats.get("fp32").get("names").forEach(n -> fp32.add(n.asText()));
        assertTrue(fp32.contains("model.embed_tokens.weight") && fp32.contains("lm_head.weight"), fp32.toString());
        assertEquals(2, formats.size(), formats.toString());
        assertTrue(Files.readString(out.resolve("config.yaml")).contains("rank: 8"));
    }

    @Test
    void theGpt2TokenizerSetsTheVocabularyAndSamplesDecodeAsText(@TempDir Path dir) throws Exception {
        Path text = dir.resolve("corpus.txt");
        Files.writeString(text, "Resumption of the session. I declare resumed the session of the Parliament. "
                .repeat(200));
        Path out = dir.resolve("run");
        Cli.Result r = run("train", "--out", out.toString(), "--set", "data.path=" + text,
                "--set", "data.tokenizer=gpt2", "--set", "optim.method=adamw",
                "--set", "model.hidden=16", "--set", "model.layers=1", "--set", "model.heads=2",
                "--set", "model.intermediate=32", "--set", "model.seq_len=8",
                "--set", "train.steps=2", "--set", "train.batch_size=2", "--set", "train.warmup=1",
                "--set", "train.eval_batches=1");
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.readString(out.resolve("config.yaml")).contains("vocab: 50257"));
        com.fasterxml.jackson.databind.JsonNode config =
                new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals(50257, config.get("vocab_size").asInt());
        Cli.Result s = run("sample", "--run", out.toString(), "--prompt", "Resumption of", "--tokens", "3",
                "--seed", "1");
        assertEquals(0, s.code(), s.err());
        assertTrue(s.out().startsWith("Resumption of"), s.out());
    }

    @Test
    void memoryPrintsEveryComponentAndTheTotalAsTableAndJson() throws Exception {
        Cli.Result j = run("memory", "--model", "7b", "--method", "q-galore", "--batch", "1", "--seq", "256", "--json");
        assertEquals(0, j.code(), j.err());
        com.fasterxml.jackson.databind.JsonNode json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(j.out());
        long total = 0;
        for (String c : new String[] {"weights", "weight_pool", "gradients", "optimizer_m", "optimizer_v", "projection",
            "refresh", "activations", "data", "runtime"}) {
            assertTrue(json.has(c), c);
            total += json.get(c).asLong();
        }
        assertEquals(total, json.get("total_bytes").asLong());
        assertTrue(total <= 16L << 30, "7b q-galore within 16 GiB: " + total);
        Cli.Result t = run("memory", "--model", "micro", "--method", "all");
        assertEquals(0, t.code(), t.err());
        for (String m : new String[] {"adamw", "adamw8bit", "adamw4bit", "solo", "galore", "q-galore", "total"}) {
            assertTrue(t.out().contains(m), m + " in\n" + t.out());
        }
        assertEquals(2, run("memory", "--model", "micro", "--method", "adam").code());
        assertEquals(2, run("memory", "--model", "micro", "--seq", "4096").code());
        assertEquals(2, run("memory", "--model", "13b").code());
        Cli.Result none = run("memory");
        assertEquals(2, none.code());
        assertTrue(none.err().contains("--model"), none.err());
    }

    @Test
    void memoryPapersListsEveryPublishedFigureWithTheEstimate() throws Exception {
        Cli.Result r = run("memory", "--papers");
        assertEquals(0, r.code(), r.err());
        for (String size : new String[] {"60m", "130m", "350m", "1b", "7b"}) {
            assertTrue(r.out().lines().anyMatch(l -> l.startsWith(size + " ") && l.contains("q-galore")), size + " in\n" + r.out());
        }
        assertTrue(r.out().contains("Q-GaLore Table 2"), r.out());
    }

    @Test
    void aRunThatCannotFitIsRefusedBeforeAnythingIsWritten(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        // about 3 TB of fp32 weights and states: more than any machine this runs on
        Cli.Result r = run("train", "--out", out.toString(), "--set", "model.preset=7b", "--set", "model.layers=2000",
                "--set", "optim.method=adamw", "--set", "train.batch_size=1");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("this run needs an estimated"), r.err());
        assertFalse(r.err().strip().contains("\n"), r.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void aDivergingRunSkipsNonFiniteStepsThenStopsKeepingItsLastGoodCheckpoint(@TempDir Path dir) throws Exception {
        Path text = Cli.corpus(dir);
        Path out = dir.resolve("run");
        // plain SGD at lr 10 without clipping: the loss grows until the forward pass overflows
        Cli.Result r = run(Cli.withTinyModel(List.of("train", "--out", out.toString(), "--set", "data.path=" + text),
                "--set", "optim.method=sgd",
                "--set", "optim.lr=10", "--set", "train.grad_clip=0", "--set", "train.warmup=0",
                "--set", "train.steps=60", "--set", "train.batch_size=4", "--set", "train.ckpt_every=1",
                "--set", "train.max_bad_steps=3", "--set", "train.log_every=1", "--set", "train.eval_batches=1"));
        assertEquals(2, r.code(), r.err());
        String err = r.err().strip();
        assertFalse(err.contains("\n"), err);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("training stopped at step (\\d+): 3 steps in a row")
                .matcher(err);
        assertTrue(m.find(), err);
        int stop = Integer.parseInt(m.group(1));
        String good = String.format("step-%08d", stop - 3);
        assertTrue(err.contains(good), "names the last good checkpoint " + good + ": " + err);
        assertEquals(good, Files.readString(out.resolve("checkpoints/latest")).strip());
        try (java.util.stream.Stream<Path> s = Files.list(out.resolve("checkpoints"))) {
            assertEquals(java.util.List.of("latest", String.format("step-%08d", stop - 4), good),
                    s.map(p -> p.getFileName().toString()).sorted().toList(), "train.keep_ckpts (2) newest kept");
        }
        java.util.List<String> lines = Files.readAllLines(out.resolve("metrics.jsonl"));
        assertEquals(stop, lines.size());
        for (int i = 0; i < stop; i++) {
            assertEquals(i >= stop - 3, lines.get(i).contains("\"skipped\""), lines.get(i));
        }
        assertFalse(Files.exists(out.resolve("summary.json")));
    }

    @Test
    void anExistingRunIsNeverOverwritten(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        Files.createDirectories(out);
        Files.writeString(out.resolve("config.yaml"), "precious");
        Cli.Result r = run("train", "--set", "train.steps=1", "--out", out.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("already holds a run"), r.err());
        assertEquals("precious", Files.readString(out.resolve("config.yaml")));
    }
}
