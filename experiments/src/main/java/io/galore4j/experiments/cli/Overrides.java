package io.galore4j.experiments.cli;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * {@code --set KEY=VALUE} (repeatable): settings applied in order over a command's others. Its
 * help text names an example fit for each command (options.properties, key {@code set}).
 */
final class Overrides {

    @Option(names = "--set", paramLabel = "KEY=VALUE", descriptionKey = "set",
            description = "override one setting, as for train (repeatable)")
    List<String> sets = new ArrayList<>();
}
