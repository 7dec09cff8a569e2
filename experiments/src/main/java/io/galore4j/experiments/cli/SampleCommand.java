package io.galore4j.experiments.cli;

import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.config.RunConfig;
import io.galore4j.trainer.data.Tokenizer;
import io.galore4j.trainer.io.SavedModel;
import io.galore4j.trainer.model.DenseWeights;
import io.galore4j.trainer.model.LlamaModel;
import io.galore4j.trainer.model.ModelConfig;
import io.galore4j.trainer.run.RunDirectory;
import io.galore4j.trainer.sample.Sampler;
import io.galore4j.trainer.sample.TextGenerator;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code galore sample}: continues a prompt with the model a training run saved. */
@Command(
        name = "sample",
        mixinStandardHelpOptions = true,
        description = {
            "Continue a prompt with the model saved by a training run.",
            "Reads DIR/config.yaml and DIR/" + SavedModel.WEIGHTS + "; prints the prompt and its continuation."
        })
public final class SampleCommand implements Callable<Integer> {

    @Mixin RunOption runOption;

    @Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "text to continue (non-empty)")
    String prompt;

    @Option(names = "--tokens", paramLabel = "N", defaultValue = "200",
            description = "tokens to generate (bytes for the byte tokenizer, BPE tokens for gpt2) (default: ${DEFAULT-VALUE})")
    int tokens;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0.8",
            description = "softmax temperature; 0 picks the most likely token (default: ${DEFAULT-VALUE})")
    double temperature;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "0",
            description = "draw only among the K most likely tokens; 0 = all (default: ${DEFAULT-VALUE})")
    int topK;

    @Option(names = "--seed", paramLabel = "S", description = "seed of the draws (default: a random one, printed to stderr)")
    Long seed;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (tokens < 0) {
            throw new IllegalArgumentException("--tokens must be ≥ 0, got " + tokens);
        }
        if (prompt.isEmpty()) {
            throw new IllegalArgumentException("--prompt is empty; give some text to continue");
        }
        long s = seed != null ? seed : new java.util.SplittableRandom().nextLong();
        Sampler sampler = new Sampler(temperature, topK, s);
        Path run = runOption.dir;
        if (!Files.isDirectory(run)) {
            throw new IllegalArgumentException("--run " + run + ": no such directory");
        }
        Path config = run.resolve(RunDirectory.CONFIG);
        if (!Files.isRegularFile(config)) {
            throw new IllegalArgumentException("--run " + run + ": no " + RunDirectory.CONFIG + " (not a run directory)");
        }
        Path weights = run.resolve(SavedModel.WEIGHTS);
        if (!Files.isRegularFile(weights)) {
            throw new IllegalArgumentException("--run " + run + ": no " + SavedModel.WEIGHTS
                    + " (the model is saved when training finishes)");
        }
        ConfigTree tree = ConfigTree.of(config);
        Tokenizer tokenizer = RunConfig.tokenizer(tree.values());
        ModelConfig modelConfig = RunConfig.modelConfig(tree);
        DenseWeights loaded = SavedModel.load(weights, modelConfig);

        TextGenerator generator = new TextGenerator(new LlamaModel(modelConfig, loaded), tokenizer.vocabSize());
        int[] promptTokens = tokenizer.encode(prompt);
        int[] continuation = generator.generate(promptTokens, tokens, sampler);
        int[] all = new int[promptTokens.length + continuation.length];
        System.arraycopy(promptTokens, 0, all, 0, promptTokens.length);
        System.arraycopy(continuation, 0, all, promptTokens.length, continuation.length);

        if (seed == null) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("galore sample: seed " + s + " (pass --seed " + s + " to repeat)");
            err.flush();
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println(tokenizer.decode(all));
        out.flush();
        return 0;
    }
}
