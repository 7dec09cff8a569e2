package io.galore4j.trainer;

import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.config.RunConfig;
import io.galore4j.trainer.io.SavedModel;
import io.galore4j.trainer.model.LlamaParameters;
import io.galore4j.trainer.model.ModelConfig;
import io.galore4j.trainer.run.CheckpointWeights;
import io.galore4j.trainer.run.Checkpoints;
import io.galore4j.trainer.run.RunDirectory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.BiConsumer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The trained weights a fine-tune starts from ({@code galore finetune --from}): a run directory's
 * {@value SavedModel#WEIGHTS} (or, when the run has none yet, its latest checkpoint), or one
 * checkpoint directory {@code RUN/checkpoints/step-N}. The model's shape and tokenizer come from
 * the run's {@code config.yaml}. Every problem is an IllegalArgumentException naming the path.
 */
public final class ModelSource {

    private final Path run;
    private final ConfigTree runConfig;
    private final ModelConfig model;
    private final String tokenizer;
    private final Path weightsFile;
    private final Path checkpoint;

    private ModelSource(Path run, ConfigTree runConfig, Path weightsFile, Path checkpoint) {
        this.run = run;
        this.runConfig = runConfig;
        this.model = RunConfig.modelConfig(runConfig);
        this.tokenizer = RunConfig.tokenizer(runConfig.values()).name();
        this.weightsFile = weightsFile;
        this.checkpoint = checkpoint;
    }

    /** Resolves {@code from}: a run directory or a checkpoint directory. */
    public static ModelSource resolve(Path from) throws IOException {
        if (!Files.exists(from)) {
            throw new IllegalArgumentException("--from " + from + ": no such file or directory");
        }
        Path checksums = from.resolve(Checkpoints.CHECKSUMS);
        if (Files.isRegularFile(checksums) || Files.isRegularFile(from.resolve(Checkpoints.TRAINER))) {
            Path parent = from.toAbsolutePath().normalize().getParent();
            Path run = parent == null ? null : parent.getParent();
            if (run == null || !parent.getFileName().toString().equals(Checkpoints.DIR)
                    || !Files.isRegularFile(run.resolve(RunDirectory.CONFIG))) {
                throw new IllegalArgumentException("--from " + from + ": a checkpoint must lie in RUN/"
                        + Checkpoints.DIR + "/ beside the run's " + RunDirectory.CONFIG);
            }
            return new ModelSource(run, ConfigTree.of(run.resolve(RunDirectory.CONFIG)), null, from);
        }
        if (!Files.isRegularFile(from.resolve(RunDirectory.CONFIG))) {
            throw new IllegalArgumentException("--from " + from + " is neither a run directory (no "
                    + RunDirectory.CONFIG + ") nor a checkpoint directory (no " + Checkpoints.CHECKSUMS + ")");
        }
        ConfigTree config = ConfigTree.of(from.resolve(RunDirectory.CONFIG));
        Path weights = from.resolve(SavedModel.WEIGHTS);
        if (Files.isRegularFile(weights)) {
            return new ModelSource(from, config, weights, null);
        }
        Checkpoints checkpoints = new Checkpoints(from);
        Optional<Checkpoints.Loaded> latest = checkpoints.latest();
        if (latest.isEmpty()) {
            throw new IllegalArgumentException("--from " + from + ": the run has neither " + SavedModel.WEIGHTS
                    + " nor a checkpoint (" + checkpoints.root() + ")");
        }
        latest.get().close();
        return new ModelSource(from, config, null, latest.get().dir());
    }

    public ModelConfig model() {
        return model;
    }

    /** The run's tokenizer name ({@code data.tokenizer}). */
    public String tokenizer() {
        return tokenizer;
    }

    /** The source run's resolved configuration. */
    public ConfigTree runConfig() {
        return runConfig;
    }

    /** "PATH (model.safetensors)" or "checkpoint PATH (step N)". */
    public String describe() {
        return weightsFile != null ? weightsFile.toString() : "checkpoint " + checkpoint;
    }

    /**
     * Hands every parameter to {@code sink} in {@link LlamaParameters#shapes} order as a new
     * fp32 array that the sink owns (it may keep it or close it). A saved model is read one
     * tensor at a time; a checkpoint is verified against its checksums and its stored weights
     * are decoded exactly as the trainer decodes them (INT8 codes included), one at a time
     * ({@link CheckpointWeights}).
     */
    public void forEachWeight(BiConsumer<String, INDArray> sink) throws IOException {
        if (weightsFile != null) {
            SavedModel.forEach(weightsFile, model, sink);
            return;
        }
        try (Checkpoints.Loaded c = Checkpoints.open(checkpoint)) {
            CheckpointWeights weights = new CheckpointWeights(c, model);
            for (String name : LlamaParameters.shapes(model).keySet()) {
                sink.accept(name, weights.read(name));
            }
        }
    }
}
