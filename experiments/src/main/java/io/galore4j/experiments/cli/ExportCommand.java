package io.galore4j.experiments.cli;

import io.galore4j.galore.OptimSettings;
import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.config.RunConfig;
import io.galore4j.trainer.io.Dtype;
import io.galore4j.trainer.io.SavedModel;
import io.galore4j.trainer.model.ModelConfig;
import io.galore4j.trainer.run.CheckpointWeights;
import io.galore4j.trainer.run.Checkpoints;
import io.galore4j.trainer.run.RunDirectory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code galore export}: the model of a run's latest checkpoint, dequantized (INT8 weights decoded
 * exactly as the trainer decodes them) to fp32 or bf16, under Hugging Face LLaMA tensor names,
 * with a {@code config.json} beside it, for the Python ecosystem.
 */
@Command(
        name = "export",
        mixinStandardHelpOptions = true,
        description = {
            "Export a run's model as a Hugging Face LLaMA safetensors file with config.json beside it.",
            "Reads the run's latest checkpoint (verified against its checksums). Directories of --to that do not"
                    + " exist yet are created."
        })
public final class ExportCommand implements Callable<Integer> {

    @Mixin RunOption runOption;

    @Option(names = "--to", required = true, paramLabel = "FILE.safetensors|DIR/",
            description = "the file to write; a directory (an existing one, or a path ending in /) gets "
                    + SavedModel.WEIGHTS + " inside it")
    String to;

    @Option(names = "--dtype", paramLabel = "TYPE", defaultValue = "f32",
            description = "f32 or bf16 (default: ${DEFAULT-VALUE})")
    String dtype;

    @Mixin ForceOption force;

    @Override
    public Integer call() throws Exception {
        Dtype type = Dtype.exportType(dtype);
        Path to = target(this.to);
        Path parent = to.toAbsolutePath().getParent();
        Path hfConfig = parent.resolve(SavedModel.HF_CONFIG);
        if (!force.force && (Files.exists(to) || Files.exists(hfConfig))) {
            throw new IllegalArgumentException("--to " + to + ": " + (Files.exists(to) ? to : hfConfig)
                    + " exists; pass --force to replace it");
        }
        Path run = runOption.dir;
        if (!RunDirectory.isRun(run) || !Files.isRegularFile(run.resolve(RunDirectory.CONFIG))) {
            throw new IllegalArgumentException("--run " + run + " is not a run directory (no " + RunDirectory.CONFIG + ")");
        }
        ConfigTree tree = ConfigTree.of(run.resolve(RunDirectory.CONFIG));
        ModelConfig model = RunConfig.modelConfig(tree);
        OptimSettings.from(tree.section("optim")); // a bad optim section is named before the checkpoint is read
        String tokenizer = RunConfig.tokenizer(tree.values()).name();
        Checkpoints checkpoints = new Checkpoints(run);
        try (Checkpoints.Loaded c = checkpoints.latest().orElseThrow(() -> new IllegalArgumentException(
                "--run " + run + " has no checkpoint yet (" + checkpoints.root() + ")"));
                CheckpointWeights weights = new CheckpointWeights(c, model)) {
            Files.createDirectories(parent); // after every check: a refused export creates nothing
            SavedModel.save(to, hfConfig, type, model, tokenizer, weights);
            System.out.printf("galore export: %s (step %d) → %s (%s, %,d parameters) and %s%n", c.dir(), c.step(), to,
                    type, model.parameterCount(), hfConfig);
        }
        return 0;
    }

    /**
     * The file {@code --to} names: {@code arg} itself, or {@value SavedModel#WEIGHTS} inside it when
     * it is an existing directory or ends in a separator. IllegalArgumentException when the file name
     * does not end in .safetensors or an existing ancestor is not a directory.
     */
    static Path target(String arg) {
        Path path = Path.of(arg);
        boolean directory = Files.isDirectory(path) || arg.endsWith("/") || arg.endsWith(java.io.File.separator);
        Path file = directory ? path.resolve(SavedModel.WEIGHTS) : path;
        if (!file.getFileName().toString().endsWith(".safetensors")) {
            throw new IllegalArgumentException("--to " + arg + ": the file name must end in .safetensors");
        }
        for (Path p = file.toAbsolutePath().getParent(); p != null; p = p.getParent()) {
            if (Files.exists(p)) {
                if (!Files.isDirectory(p)) {
                    throw new IllegalArgumentException("--to " + arg + ": " + p + " is a file, not a directory");
                }
                break;
            }
        }
        return file;
    }
}
