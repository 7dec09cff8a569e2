package io.galore4j.experiments.cli;

import io.galore4j.trainer.FinetuneJob;
import io.galore4j.trainer.ModelSource;
import io.galore4j.trainer.TrainJob;
import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.config.RunConfig;
import io.galore4j.trainer.config.TrainSettings;
import io.galore4j.trainer.model.ModelConfig;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code galore finetune}: fine-tunes a trained model (a run directory or one of its checkpoints)
 * on a text, with QZO (no gradients: the quantized model's scales, {@link FinetuneJob}) or with
 * full-rank AdamW (the trainer's loop, {@link TrainJob}). {@code --set train.steps=0} only
 * evaluates the starting model, forward only.
 */
@Command(
        name = "finetune",
        mixinStandardHelpOptions = true,
        description = {
            "Fine-tune a trained model: --method qzo (zeroth-order, only the quantized model's scales train)"
                    + " or --method adamw (full-rank, with gradients).",
            "Settings: the embedded defaults with the source run's model.* and data.tokenizer, then --config,"
                    + " then each --set. --set train.steps=0 only evaluates the starting model (forward only).",
            "Other text: --set data.path=FILE, or --set data.line_filter=REGEX to keep matching lines"
                    + " (e.g. '\\p{IsGreek}')."
        })
public final class FinetuneCommand implements Callable<Integer> {

    @Option(names = "--method", required = true, paramLabel = "METHOD", description = "qzo or adamw")
    String method;

    @Option(names = "--from", required = true, paramLabel = "DIR",
            description = "a run directory (its model.safetensors, else its latest checkpoint) or a checkpoint directory"
                    + " (RUN/checkpoints/step-N)")
    Path from;

    @Mixin SettingsOptions settings;

    @Mixin RunOutput output;

    @Override
    public Integer call() throws Exception {
        if (!method.equals("qzo") && !method.equals("adamw")) {
            throw new IllegalArgumentException("--method must be qzo or adamw, got '" + method + "'");
        }
        ModelSource source = ModelSource.resolve(from);
        ConfigTree tree = settingsFrom(source);
        boolean gradients = method.equals("adamw") && TrainSettings.from(tree, 0).steps() > 0;
        if (gradients) {
            TrainJob job = TrainJob.resolve(tree, System.out);
            output.run("finetune", "finetune-" + method, () -> {
                TrainJob.Session session = job.startFrom(source);
                return run -> session.run(run, System.out);
            });
        } else {
            FinetuneJob job = FinetuneJob.resolve(tree, method, System.out);
            output.run("finetune", "finetune-" + method, () -> {
                FinetuneJob.Session session = job.start(source);
                return run -> session.run(run, System.out);
            });
        }
        return 0;
    }

    /**
     * The defaults with the source's model.* and data.tokenizer (and optim.method=adamw for
     * --method adamw), then --config and --set; the model and tokenizer may not change, and
     * --method qzo takes no optim.* settings.
     */
    private ConfigTree settingsFrom(ModelSource source) throws java.io.IOException {
        ConfigTree tree = ConfigTree.defaults().withSection("model", source.runConfig().section("model"))
                .set("data.tokenizer=" + source.tokenizer());
        if (method.equals("adamw")) {
            tree = tree.set("optim.method=adamw");
        }
        Map<String, Object> optimBefore = tree.section("optim");
        tree = settings.over(tree);
        ModelConfig model = RunConfig.modelConfig(tree);
        if (!model.equals(source.model())) {
            throw new IllegalArgumentException("model.* comes from --from " + from + " (" + source.model()
                    + ") and cannot change (now " + model + ")");
        }
        String tokenizer = RunConfig.tokenizer(tree.values()).name();
        if (!tokenizer.equals(source.tokenizer())) {
            throw new IllegalArgumentException("data.tokenizer comes from --from " + from + " ("
                    + source.tokenizer() + ") and cannot change (now " + tokenizer + ")");
        }
        if (method.equals("qzo") && !tree.section("optim").equals(optimBefore)) {
            throw new IllegalArgumentException("optim.* settings do not apply to --method qzo; its settings are qzo.*");
        }
        if (method.equals("adamw") && !"adamw".equals(tree.get("optim.method"))) {
            throw new IllegalArgumentException("optim.method must stay adamw with --method adamw (got "
                    + tree.get("optim.method") + ")");
        }
        return tree;
    }
}
