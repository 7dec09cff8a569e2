package io.galore4j.experiments;

import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;

import io.galore4j.trainer.BenchCommand;
import io.galore4j.trainer.ExportCommand;
import io.galore4j.trainer.FinetuneCommand;
import io.galore4j.trainer.MemoryCommand;
import io.galore4j.trainer.SampleCommand;
import io.galore4j.trainer.TrainCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code galore} command line: one picocli class per command, registered here.
 *
 * <p>Exit codes: 0 success; 2 for anything the user can fix (an unknown command or option, a bad
 * configuration value, a missing or corrupt file), reported as one line; 1 for a bug, reported
 * with its stack trace.
 */
@Command(
        name = "galore",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Memory-efficient LLaMA-style pretraining on the JVM (Q-GaLore on ND4J).",
        subcommands = {TrainCommand.class, FinetuneCommand.class, SampleCommand.class, MemoryCommand.class,
            ExportCommand.class, ReportCommand.class, PlotCommand.class, SweepCommand.class, BenchCommand.class,
            CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    /** Exit code for input the user can correct. */
    public static final int USER_ERROR = 2;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        // No subcommand given: show what there is.
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line; tests execute it in-process. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler(Main::handleExecutionException);
        cli.setParameterExceptionHandler(Main::handleParameterException);
        return cli;
    }

    /** A missing, unknown or malformed option: one line naming it and where the help is, exit code 2. */
    private static int handleParameterException(CommandLine.ParameterException e, String[] args) {
        CommandLine cli = e.getCommandLine();
        String command = cli.getCommandSpec().qualifiedName();
        PrintWriter err = cli.getErr();
        err.println(command + ": error: " + e.getMessage().strip().replaceAll("\\s*\\R\\s*", " ")
                + " (see " + command + " --help)");
        err.flush();
        return USER_ERROR;
    }

    private static int handleExecutionException(
            Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
        if (isUserError(e)) {
            PrintWriter err = cli.getErr();
            err.println("galore " + cli.getCommandName() + ": error: " + e.getMessage());
            err.flush();
            return USER_ERROR;
        }
        throw new IllegalStateException(e);
    }

    /** Bad input surfaces as IllegalArgumentException (its message names the problem) or a missing file. */
    static boolean isUserError(Throwable e) {
        return e instanceof IllegalArgumentException || e instanceof NoSuchFileException;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"galore4j " + (v == null ? "(development build)" : v)};
        }
    }
}
