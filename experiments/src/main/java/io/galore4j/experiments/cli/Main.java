package io.galore4j.experiments.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

import io.galore4j.trainer.io.WriteFailure;
import io.galore4j.trainer.run.RunStopped;
import io.galore4j.trainer.run.StopSignal;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code galore} command line: one picocli class per command, registered here.
 *
 * <p>Exit codes: 0 success; 2 for anything the user can fix (an unknown command or option, a bad
 * configuration value, a missing or corrupt file, a file that cannot be written), reported as one
 * line; 130 (SIGINT) and 143 (SIGTERM) for a run that stopped on a signal after saving its
 * progress ({@link StopSignal}); 1 for a bug, reported with its stack trace.
 */
@Command(
        name = "galore",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Memory-efficient LLaMA-style pretraining on the JVM (Q-GaLore on ND4J).",
        resourceBundle = "io.galore4j.experiments.cli.options", // help texts of shared options, by command
        subcommands = {TrainCommand.class, FinetuneCommand.class, SampleCommand.class, MemoryCommand.class, PlanCommand.class,
            ExportCommand.class, ReportCommand.class, PlotCommand.class, SweepCommand.class, BenchCommand.class, GemmCommand.class,
            JmhCommand.class, CommandLine.HelpCommand.class})
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
        StopSignal.install();
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
        PrintWriter err = cli.getErr();
        if (e instanceof RunStopped stopped) {
            err.println("galore " + cli.getCommandName() + ": " + e.getMessage());
            err.flush();
            return stopped.exitCode();
        }
        String message = userMessage(e);
        if (message != null) {
            err.println("galore " + cli.getCommandName() + ": error: " + message);
            err.flush();
            return USER_ERROR;
        }
        throw new IllegalStateException(e);
    }

    /**
     * The one line for an error the user can act on, or null for a bug: bad input surfaces as
     * IllegalArgumentException (its message names the problem); a file that cannot be read or
     * written (missing, a file where a directory belongs, no space left, no permission) as an
     * IOException, named with the system's reason.
     */
    static String userMessage(Throwable e) {
        if (e instanceof IllegalArgumentException) {
            return e.getMessage();
        }
        if (e instanceof UncheckedIOException u) {
            e = u.getCause();
        }
        if (e instanceof WriteFailure) {
            return e.getMessage();
        }
        if (e instanceof FileSystemException f) {
            String reason = f.getReason() != null ? f.getReason() : reason(f);
            return f.getFile() + (f.getOtherFile() != null ? " → " + f.getOtherFile() : "") + ": " + reason;
        }
        if (e instanceof IOException) {
            return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        }
        return null;
    }

    /** The system's words for the failures Java reports by type alone. */
    private static String reason(FileSystemException f) {
        if (f instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (f instanceof FileAlreadyExistsException) {
            return "already exists";
        }
        if (f instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (f instanceof NotDirectoryException) {
            return "not a directory";
        }
        if (f instanceof DirectoryNotEmptyException) {
            return "directory not empty";
        }
        return f.getClass().getSimpleName();
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"galore4j " + (v == null ? "(development build)" : v)};
        }
    }
}
