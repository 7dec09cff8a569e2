package io.galore4j.experiments.cli;

import io.galore4j.trainer.config.ConfigTree;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code --config FILE} and {@code --set KEY=VALUE}: a run's settings, the file merged over a
 * base (the embedded defaults, or what a command starts from), then each assignment in order.
 */
final class SettingsOptions {

    @Option(names = "--config", paramLabel = "FILE", descriptionKey = "config",
            description = "YAML file with model/data/train/optim settings")
    Path config;

    @Mixin Overrides overrides;

    /** {@code base} with --config merged, then each --set applied. */
    ConfigTree over(ConfigTree base) throws IOException {
        return base.with(config, overrides.sets);
    }
}
