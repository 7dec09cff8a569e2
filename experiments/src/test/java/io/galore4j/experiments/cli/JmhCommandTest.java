package io.galore4j.experiments.cli;

import static io.galore4j.experiments.cli.UserErrors.assertOneLine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code jmh} is listed in the help with one line; run through Java rather than the launcher, it says how to run it. */
class JmhCommandTest {

    @Test
    void theHelpListsJmhOnOneLine() {
        Cli.Result r = Cli.run("--help");
        assertEquals(0, r.code());
        String line = r.out().lines().filter(l -> l.strip().startsWith("jmh ")).findFirst().orElse("");
        assertTrue(line.contains("JMH benchmarks (through the launcher bin/galore)."), r.out());
        assertEquals(0, Cli.run("jmh", "--help").code());
    }

    @Test
    void runThroughJavaItNamesTheLauncherInOneLineWithExitCode2() {
        assertOneLine(2, Cli.run("jmh", "quant", "-f", "1", "-wi", "1"), "galore jmh: error: ",
                "through the launcher", JmhCommand.USAGE);
        assertOneLine(2, Cli.run("jmh"), JmhCommand.USAGE);
    }
}
