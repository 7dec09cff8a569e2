package io.galore4j.experiments.cli;

import io.galore4j.experiments.RunLocator;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** The run directories report and plot read ({@code DIR...}), and the warnings of the runs found there. */
final class RunDirs {

    @Parameters(arity = "1..*", paramLabel = "DIR", description = "run directories, or directories holding runs")
    List<Path> dirs;

    @Spec(Spec.Target.MIXEE) CommandSpec command;

    /** Every run in or below the DIRs ({@link RunLocator#find}), each problem a warning line. */
    List<Path> find() throws IOException {
        return RunLocator.find(dirs, warnings());
    }

    /** One "galore COMMAND: warning: …" line on the command's stderr per problem. */
    Consumer<String> warnings() {
        return warnings(command);
    }

    /** One "galore COMMAND: warning: …" line on the stderr of {@code spec}'s command per problem. */
    static Consumer<String> warnings(CommandSpec spec) {
        PrintWriter err = spec.commandLine().getErr();
        String command = spec.commandLine().getCommandName();
        return message -> {
            err.println("galore " + command + ": warning: " + message);
            err.flush();
        };
    }
}
