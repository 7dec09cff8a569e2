package io.galore4j.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.data.ByteTokenizer;
import io.galore4j.trainer.data.Corpus;
import io.galore4j.trainer.data.EvalWindows;
import io.galore4j.trainer.data.TokenSplit;
import io.galore4j.trainer.io.SavedModel;
import io.galore4j.trainer.model.DenseWeights;
import io.galore4j.trainer.model.LlamaModel;
import io.galore4j.trainer.model.LlamaParameters;
import io.galore4j.trainer.model.ModelConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code galore train} saves the model, and {@code galore sample} continues a prompt with it. One
 * tiny run (hidden 32, 2 layers, seq_len 16, 4 Q-GaLore steps) is trained once for all tests.
 */
class SampleCommandTest {

    private static final String PROMPT = "the quick brown fox jumps over "; // longer than seq_len: the window slides
    /** The tiny model's sequence length ({@link Cli#tinyModel}). */
    private static final int SEQ_LEN = 16;

    @TempDir
    static Path dir;
    static Path corpus;
    static Path run;

    private static Cli.Result run(String... args) {
        return Cli.run(args);
    }

    @BeforeAll
    static void trainATinyRun() throws Exception {
        corpus = Cli.corpus(dir);
        run = dir.resolve("run");
        Cli.Result r = run(Cli.withTinyModel(List.of("train", "--out", run.toString(), "--set", "data.path=" + corpus),
                "--set", "optim.rank=8", "--set", "optim.refresh_gap=2",
                "--set", "train.steps=4", "--set", "train.batch_size=4", "--set", "train.warmup=1",
                "--set", "train.eval_every=4", "--set", "train.eval_batches=1"));
        assertEquals(0, r.code(), r.err());
    }

    private static ModelConfig config() throws Exception {
        return ModelConfig.standard(32, 2, 2, 48, 256, SEQ_LEN);
    }

    @Test
    void theSavedModelReproducesTheRunsFinalValidationLoss() throws Exception {
        assertTrue(Files.isRegularFile(run.resolve("config.json")));
        DenseWeights w = SavedModel.load(run.resolve(SavedModel.WEIGHTS), config());
        assertEquals(LlamaParameters.shapes(config()).keySet(), w.asMap().keySet());
        // The final evaluation ran on the optimizer's INT8-backed weights; the file must give the same loss.
        TokenSplit split = new TokenSplit(new ByteTokenizer().encode(Corpus.load(corpus.toString())),
                TokenSplit.DEFAULT_VAL_FRACTION);
        EvalWindows windows = new EvalWindows(split, 1, 4, SEQ_LEN);
        LlamaModel net = new LlamaModel(config(), w);
        double loss = 0;
        for (int j = 0; j < windows.batchCount(); j++) {
            loss += net.loss(windows.batch(j));
        }
        loss /= windows.batchCount();
        double logged = new ObjectMapper().readTree(run.resolve("summary.json").toFile()).get("val_loss").asDouble();
        assertEquals(logged, loss, 1e-6 * Math.abs(logged));
    }

    @Test
    void samplePrintsThePromptAndAContinuationThatAFixedSeedRepeats() {
        Cli.Result a = run("sample", "--run", run.toString(), "--prompt", PROMPT, "--tokens", "16", "--seed", "5");
        Cli.Result b = run("sample", "--run", run.toString(), "--prompt", PROMPT, "--tokens", "16", "--seed", "5");
        Cli.Result c = run("sample", "--run", run.toString(), "--prompt", PROMPT, "--tokens", "16", "--seed", "6",
                "--temperature", "1.5");
        assertEquals(0, a.code(), a.err());
        assertTrue(a.out().startsWith(PROMPT), a.out());
        assertTrue(a.out().length() > PROMPT.length() + 1, "something was generated: " + a.out());
        assertEquals(a.out(), b.out(), "same seed, same text");
        assertEquals(0, c.code(), c.err());
        assertNotEquals(a.out(), c.out(), "another seed and temperature give another text");
    }

    @Test
    void greedySamplingIsTheArgmaxContinuationOfTheModelsLogits() throws Exception {
        int n = 8;
        Cli.Result r = run("sample", "--run", run.toString(), "--prompt", PROMPT, "--tokens", "" + n,
                "--temperature", "0");
        assertEquals(0, r.code(), r.err());

        ConfigTree tree = ConfigTree.of(run.resolve("config.yaml"));
        assertEquals(SEQ_LEN, tree.values().integer("model.seq_len", 1, 1000));
        LlamaModel net = new LlamaModel(config(), SavedModel.load(run.resolve(SavedModel.WEIGHTS), config()));
        ByteTokenizer tok = new ByteTokenizer();
        int[] tokens = tok.encode(PROMPT);
        for (int i = 0; i < n; i++) {
            int[] window = Arrays.copyOfRange(tokens, Math.max(0, tokens.length - SEQ_LEN), tokens.length);
            INDArray logits = net.logits(new int[][] {window});
            long next = logits.get(org.nd4j.linalg.indexing.NDArrayIndex.point(0),
                    org.nd4j.linalg.indexing.NDArrayIndex.point(window.length - 1),
                    org.nd4j.linalg.indexing.NDArrayIndex.all()).argMax().getLong(0);
            tokens = Arrays.copyOf(tokens, tokens.length + 1);
            tokens[tokens.length - 1] = (int) next;
        }
        assertEquals(tok.decode(tokens) + System.lineSeparator(), r.out());
    }

    @Test
    void helpListsTheSampleCommand() {
        assertTrue(run("--help").out().contains("sample"));
        Cli.Result r = run("sample", "--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("--temperature") && r.out().contains("--top-k"), r.out());
    }

    @Test
    void badInputsEndInOneLineAndExit2() throws Exception {
        Path noModel = Files.createDirectories(dir.resolve("no-model"));
        Files.copy(run.resolve("config.yaml"), noModel.resolve("config.yaml"));

        Path corrupt = Files.createDirectories(dir.resolve("corrupt"));
        Files.copy(run.resolve("config.yaml"), corrupt.resolve("config.yaml"));
        byte[] model = Files.readAllBytes(run.resolve(SavedModel.WEIGHTS));
        Files.write(corrupt.resolve(SavedModel.WEIGHTS), Arrays.copyOf(model, model.length / 2));

        Path mismatch = Files.createDirectories(dir.resolve("mismatch"));
        Files.copy(run.resolve(SavedModel.WEIGHTS), mismatch.resolve(SavedModel.WEIGHTS));
        String yaml = Files.readString(run.resolve("config.yaml"));
        assertTrue(yaml.contains("intermediate: 48"), yaml);
        Files.writeString(mismatch.resolve("config.yaml"), yaml.replace("intermediate: 48", "intermediate: 40"));

        String r = run.toString();
        String[][] cases = {
            {"--run", dir.resolve("missing").toString(), "--prompt", "x"},
            {"--run", noModel.toString(), "--prompt", "x"},
            {"--run", corrupt.toString(), "--prompt", "x"},
            {"--run", mismatch.toString(), "--prompt", "x"},
            {"--run", r, "--prompt", ""},
            {"--run", r, "--prompt", "x", "--tokens", "-1"},
            {"--run", r, "--prompt", "x", "--temperature", "-0.5"},
            {"--run", r, "--prompt", "x", "--temperature", "NaN"},
            {"--run", r, "--prompt", "x", "--top-k", "-2"},
        };
        String[] names = {"no such directory", SavedModel.WEIGHTS, "past the end", "mlp.gate_proj",
            "--prompt", "--tokens", "--temperature", "--temperature", "--top-k"};
        for (int i = 0; i < cases.length; i++) {
            String[] args = new String[cases[i].length + 1];
            args[0] = "sample";
            System.arraycopy(cases[i], 0, args, 1, cases[i].length);
            Cli.Result res = run(args);
            String what = String.join(" ", cases[i]);
            assertEquals(2, res.code(), what + ": " + res.err());
            String err = res.err().strip();
            assertFalse(err.contains("\n"), "one line: " + err);
            assertTrue(err.startsWith("galore sample: error: "), err);
            assertTrue(err.contains(names[i]), what + " names " + names[i] + ": " + err);
            assertEquals("", res.out(), what);
        }
        // Malformed numbers and a missing required option are picocli's usage errors, also exit 2.
        assertEquals(2, run("sample", "--run", r, "--prompt", "x", "--tokens", "many").code());
        assertEquals(2, run("sample", "--run", r).code());
    }
}
