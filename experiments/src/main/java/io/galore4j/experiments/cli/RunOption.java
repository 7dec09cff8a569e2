package io.galore4j.experiments.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --run DIR}: the run directory a command reads (sample, export). */
final class RunOption {

    @Option(names = "--run", required = true, paramLabel = "DIR", description = "run directory written by `galore train`")
    Path dir;
}
