package io.galore4j.experiments.cli;

import static io.galore4j.experiments.cli.Cli.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.galore4j.trainer.io.SavedModel;
import io.galore4j.trainer.model.LlamaParameters;
import io.galore4j.trainer.model.ModelConfig;
import io.galore4j.trainer.run.RunDirectory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code galore finetune}: QZO and AdamW fine-tunes of a tiny trained run (hidden 32, 2 layers,
 * seq_len 16, 4 Q-GaLore steps, with a checkpoint), the forward-only evaluation, and every user
 * error as one line with exit code 2 and nothing written.
 */
class FinetuneTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir static Path dir;
    static Path base;
    static Path text;

    @BeforeAll
    static void trainABaseRun() throws Exception {
        Path corpus = Cli.corpus(dir);
        text = dir.resolve("other.txt");
        Files.writeString(text, "pack my box with five dozen liquor jugs!\n".repeat(300));
        base = dir.resolve("base");
        Cli.Result r = run(Cli.withTinyModel(List.of("train", "--out", base.toString(), "--set", "data.path=" + corpus),
                "--set", "optim.rank=8", "--set", "train.steps=4", "--set", "train.batch_size=4",
                "--set", "train.warmup=1", "--set", "train.eval_batches=1"));
        assertEquals(0, r.code(), r.err());
    }

    private static String[] finetune(String method, Path from, Path out, String... sets) {
        List<String> args = new ArrayList<>(List.of("finetune", "--method", method, "--from", from.toString(),
                "--out", out.toString(), "--set", "data.path=" + text, "--set", "train.batch_size=4",
                "--set", "train.eval_batches=1", "--set", "train.log_every=1"));
        for (String s : sets) {
            args.add("--set");
            args.add(s);
        }
        return args.toArray(String[]::new);
    }

    @Test
    void qzoWritesARunWhoseModelSamplesAndWhoseScalesAreTheOnlyTrainables() throws Exception {
        Path out = dir.resolve("qzo");
        Cli.Result r = run(finetune("qzo", base, out, "train.steps=3", "train.eval_every=2", "qzo.group_size=64"));
        assertEquals(0, r.code(), r.err());
        for (String f : new String[] {"config.yaml", "metrics.jsonl", "summary.json", "model.safetensors", "config.json"}) {
            assertTrue(Files.size(out.resolve(f)) > 0, f + " written");
        }
        List<String> lines = Files.readAllLines(out.resolve(RunDirectory.METRICS));
        assertEquals(3, lines.size(), "a line per step");
        JsonNode last = JSON.readTree(lines.get(2));
        for (String k : new String[] {"step", "loss", "lr", "elapsed_s", "val_loss", "derivative"}) {
            assertTrue(last.has(k), k + " in " + last);
        }
        assertTrue(JSON.readTree(lines.get(1)).has("val_loss"), "eval_every=2");
        JsonNode s = JSON.readTree(out.resolve(RunDirectory.SUMMARY).toFile());
        assertEquals("qzo", s.get("method").asText());
        assertEquals(3, s.get("steps").asInt());
        assertTrue(Double.isFinite(s.get("val_loss_before").asDouble()) && Double.isFinite(s.get("val_loss").asDouble()));
        assertTrue(s.get("peak_rss_bytes").asLong() > 0 && s.get("wall_s").asDouble() > 0);
        // every matrix of hidden 32, intermediate 48, vocab 256 has one scale per 64 elements
        ModelConfig m = ModelConfig.standard(32, 2, 2, 48, 256, 16);
        long scales = LlamaParameters.shapes(m).entrySet().stream().filter(e -> e.getValue().length == 2)
                .mapToLong(e -> (e.getValue()[0] * e.getValue()[1] + 63) / 64).sum();
        assertEquals(scales, s.get("trainable").asLong());
        assertTrue(Files.readString(out.resolve(RunDirectory.CONFIG)).contains("method: \"qzo\""));
        Cli.Result sample = run("sample", "--run", out.toString(), "--prompt", "pack ", "--tokens", "8", "--seed", "1");
        assertEquals(0, sample.code(), sample.err());
        assertTrue(sample.out().startsWith("pack "), sample.out());
    }

    /**
     * A step size so large that every evaluation after step 0 is worse: the run writes the model
     * from the starting scales (equal, tensor by tensor, to the model the evaluation-only run writes
     * from the same quantized start) and its last line says so.
     */
    @Test
    void qzoWritesTheBestEvaluatedScalesAndSaysWhichOnItsLastLine() throws Exception {
        Path start = dir.resolve("qzo-start");
        assertEquals(0, run(finetune("qzo", base, start, "train.steps=0", "qzo.group_size=64")).code());
        Path out = dir.resolve("qzo-diverged");
        Printed p = printed(() -> run(finetune("qzo", base, out, "train.steps=3", "train.eval_every=1",
                "qzo.group_size=64", "qzo.lr=30", "qzo.clip=1")));
        assertEquals(0, p.result().code(), p.result().err());
        JsonNode s = JSON.readTree(out.resolve(RunDirectory.SUMMARY).toFile());
        double before = s.get("val_loss_before").asDouble();
        assertTrue(s.get("val_loss_last").asDouble() > before + 0.1, "the steps made it worse: " + s);
        assertEquals(0, s.get("kept_step").asInt());
        assertEquals(before, s.get("val_loss").asDouble(), 0.0, "val_loss is the written model's");
        String last = p.lastLine();
        assertTrue(last.startsWith("done: 3 qzo steps") && last.contains("starting scales (step 0"), last);
        ModelConfig m = ModelConfig.standard(32, 2, 2, 48, 256, 16);
        var written = SavedModel.load(out.resolve(SavedModel.WEIGHTS), m);
        var initial = SavedModel.load(start.resolve(SavedModel.WEIGHTS), m);
        for (String name : LlamaParameters.shapes(m).keySet()) {
            assertEquals(0.0, written.weight(name).sub(initial.weight(name)).amaxNumber().doubleValue(), 0.0, name);
        }
        // the same run without the large step keeps a later step's scales when one evaluated better
        Path good = dir.resolve("qzo-kept");
        Printed q = printed(() -> run(finetune("qzo", base, good, "train.steps=3", "train.eval_every=1",
                "qzo.group_size=64")));
        JsonNode k = JSON.readTree(good.resolve(RunDirectory.SUMMARY).toFile());
        int kept = k.get("kept_step").asInt();
        assertTrue(kept == 0 ? q.lastLine().contains("step 0") : q.lastLine().contains("scales of step " + kept),
                q.lastLine());
        assertTrue(k.get("val_loss").asDouble() <= k.get("val_loss_before").asDouble());
    }

    @Test
    void aCheckpointIsAStartingPointAndStepsZeroOnlyEvaluates() throws Exception {
        Path checkpoint = base.resolve("checkpoints").resolve("step-00000004");
        assertTrue(Files.isDirectory(checkpoint));
        Path quantized = dir.resolve("eval-qzo");
        Cli.Result r = run(finetune("qzo", checkpoint, quantized, "train.steps=0", "qzo.bits=4"));
        assertEquals(0, r.code(), r.err());
        JsonNode q = JSON.readTree(quantized.resolve(RunDirectory.SUMMARY).toFile());
        assertEquals(0, q.get("steps").asInt());
        assertEquals("int4", q.get("weights").asText());
        assertEquals(q.get("val_loss_before").asDouble(), q.get("val_loss").asDouble(), 0.0);
        Path fp32 = dir.resolve("eval-fp32");
        r = run(finetune("adamw", checkpoint, fp32, "train.steps=0"));
        assertEquals(0, r.code(), r.err());
        JsonNode f = JSON.readTree(fp32.resolve(RunDirectory.SUMMARY).toFile());
        assertEquals("fp32", f.get("weights").asText());
        assertTrue(f.get("val_loss").asDouble() != q.get("val_loss").asDouble(), "INT4 codes change the loss");
        // the fp32 evaluation saves the checkpoint's weights unchanged
        ModelConfig m = ModelConfig.standard(32, 2, 2, 48, 256, 16);
        INDArray head = SavedModel.load(fp32.resolve(SavedModel.WEIGHTS), m).weight(LlamaParameters.LM_HEAD);
        INDArray saved = SavedModel.load(base.resolve(SavedModel.WEIGHTS), m).weight(LlamaParameters.LM_HEAD);
        assertEquals(0.0, head.sub(saved).amaxNumber().doubleValue(), 0.0);
    }

    @Test
    void adamwFineTunesWithTheTrainersLoopAndStopsAtTheTimeLimit() throws Exception {
        Path out = dir.resolve("adamw");
        Cli.Result r = run(finetune("adamw", base, out, "train.steps=50", "train.time_limit_s=0.001",
                "train.warmup=1"));
        assertEquals(0, r.code(), r.err());
        JsonNode s = JSON.readTree(out.resolve(RunDirectory.SUMMARY).toFile());
        assertEquals("adamw", s.get("method").asText());
        assertEquals(1, s.get("steps").asInt(), "the time limit ends the run after its first step");
        assertTrue(Double.isFinite(s.get("val_loss_before").asDouble()));
        assertTrue(Files.readString(out.resolve(RunDirectory.CONFIG)).contains("method: \"adamw\""));
    }

    @Test
    void anAdamwFineTuneThatEndsWorseSaysSoOnItsLastLine() throws Exception {
        Path out = dir.resolve("adamw-diverged");
        Printed p = printed(() -> run(finetune("adamw", base, out, "train.steps=3", "train.warmup=1",
                "optim.lr=3", "train.grad_clip=0")));
        assertEquals(0, p.result().code(), p.result().err());
        JsonNode s = JSON.readTree(out.resolve(RunDirectory.SUMMARY).toFile());
        assertFalse(s.get("val_loss").asDouble() <= s.get("val_loss_before").asDouble(), s.toString());
        assertTrue(p.lastLine().startsWith("done: 3 steps") && p.lastLine().contains("worse than val_loss before"),
                p.lastLine());
    }

    /** What a command printed on System.out (where the run commands report), and its result. */
    private record Printed(Cli.Result result, String out) {
        String lastLine() {
            String[] lines = out.strip().split("\\R");
            return lines[lines.length - 1];
        }
    }

    private static Printed printed(java.util.function.Supplier<Cli.Result> command) {
        java.io.PrintStream saved = System.out;
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            Cli.Result r = command.get();
            return new Printed(r, bytes.toString(java.nio.charset.StandardCharsets.UTF_8));
        } finally {
            System.setOut(saved);
        }
    }

    @Test
    void badInputEndsInOneLineWithExitCode2AndWritesNothing() throws Exception {
        Path notARun = Files.createDirectories(dir.resolve("empty"));
        Path noModel = Files.createDirectories(dir.resolve("no-model"));
        Files.copy(base.resolve(RunDirectory.CONFIG), noModel.resolve(RunDirectory.CONFIG));
        Path nan = Files.createDirectories(dir.resolve("nan"));
        Files.copy(base.resolve(RunDirectory.CONFIG), nan.resolve(RunDirectory.CONFIG));
        ModelConfig m = ModelConfig.standard(32, 2, 2, 48, 256, 16);
        SavedModel.save(nan, m, "byte", name -> {
            INDArray w = Nd4j.ones(org.nd4j.linalg.api.buffer.DataType.FLOAT, LlamaParameters.shapes(m).get(name));
            if (name.equals(LlamaParameters.LM_HEAD)) {
                w.putScalar(5, Float.NaN);
            }
            return w;
        });
        Path out = dir.resolve("never");
        Object[][] cases = {
            {finetune("qzo", base, out, "qzo.eps=0"), "qzo.eps"},
            {finetune("qzo", base, out, "qzo.eps=-1e-3"), "qzo.eps"},
            {finetune("qzo", base, out, "qzo.eps=1"), "qzo.eps"},
            {finetune("qzo", base, out, "qzo.clip=0"), "qzo.clip"},
            {finetune("qzo", base, out, "qzo.clip=-5"), "qzo.clip"},
            {finetune("qzo", base, out, "qzo.bits=3"), "qzo.bits"},
            {finetune("qzo", dir.resolve("missing"), out), "no such file"},
            {finetune("qzo", notARun, out), "neither a run directory"},
            {finetune("qzo", noModel, out), "neither model.safetensors nor a checkpoint"},
            {finetune("qzo", nan, out), "cannot be quantized"},
            {finetune("sgd", base, out), "--method"},
            {finetune("qzo", base, out, "model.hidden=64"), "model.*"},
            {finetune("qzo", base, out, "optim.lr=0.1"), "optim.*"},
            {finetune("qzo", base, out, "data.line_filter=(x"), "not a regular expression"},
            {finetune("qzo", base, out, "data.line_filter=[x"), "not valid YAML"},
            {finetune("qzo", base, out, "data.line_filter=zzzz"), "data.line_filter"},
            {new String[] {"finetune", "--method", "qzo", "--out", out.toString()}, "--from"},
        };
        for (Object[] c : cases) {
            String[] args = (String[]) c[0];
            Cli.Result r = run(args);
            String err = r.err().strip();
            assertEquals(2, r.code(), String.join(" ", args) + ": " + err);
            assertFalse(err.contains("\n"), "one line: " + err);
            assertTrue(err.contains((String) c[1]), "names " + c[1] + ": " + err);
            assertFalse(Files.exists(out), "nothing written for " + String.join(" ", args));
        }
    }

    @Test
    void anExistingRunIsNotReplacedWithoutForce() throws Exception {
        Path out = dir.resolve("twice");
        assertEquals(0, run(finetune("qzo", base, out, "train.steps=0")).code());
        Cli.Result again = run(finetune("qzo", base, out, "train.steps=0"));
        assertEquals(2, again.code());
        assertTrue(again.err().contains("--force"), again.err());
        List<String> forced = new ArrayList<>(List.of(finetune("qzo", base, out, "train.steps=0")));
        forced.add("--force");
        assertEquals(0, run(forced.toArray(String[]::new)).code());
    }
}
