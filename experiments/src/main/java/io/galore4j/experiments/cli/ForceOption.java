package io.galore4j.experiments.cli;

import io.galore4j.trainer.run.RunDirectory;
import picocli.CommandLine.Option;

/**
 * {@code --force}: replace what a command's output would overwrite. What that is differs by
 * command (a run directory, a file, images); each says so in its help text
 * (options.properties, key {@code force}).
 */
final class ForceOption {

    @Option(names = "--force", descriptionKey = "force", description = RunDirectory.FORCE_HELP)
    boolean force;
}
