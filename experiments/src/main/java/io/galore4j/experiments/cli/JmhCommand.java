package io.galore4j.experiments.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Unmatched;

/**
 * {@code galore jmh}: listed here so that {@code galore --help} shows it; the launcher
 * {@code bin/galore} runs it before Java starts (it builds the module's test classes and starts
 * JMH on them). Reaching Java, it says so in one line, exit code 2.
 */
@Command(
        name = "jmh",
        header = "Run one module's JMH benchmarks (through the launcher bin/galore).",
        mixinStandardHelpOptions = true,
        description = {
            "Run the JMH benchmarks of one module: bin/galore jmh MODULE [JMH options], e.g. bin/galore jmh quant -f 1.",
            "The launcher bin/galore builds the module's test classes first and starts JMH on them; run through"
                    + " java directly, this command only says so."
        })
public final class JmhCommand implements Callable<Integer> {

    /** What the launcher runs. */
    static final String USAGE = "bin/galore jmh MODULE [JMH options]";

    @Parameters(arity = "0..1", paramLabel = "MODULE", description = "a module directory: quant, projection, galore, trainer")
    String module;

    @Unmatched List<String> jmhOptions = new ArrayList<>();

    @Override
    public Integer call() {
        throw new IllegalArgumentException("jmh runs through the launcher, which builds the module's benchmarks first: "
                + USAGE);
    }
}
