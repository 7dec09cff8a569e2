package io.galore4j.experiments.cli;

import io.galore4j.experiments.ReportTable;
import io.galore4j.experiments.Run;
import io.galore4j.experiments.RunLocator;
import io.galore4j.trainer.run.RunDirectory;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code galore report}: the runs side by side as a Markdown table. */
@Command(
        name = "report",
        header = "Print a Markdown table that compares runs.",
        mixinStandardHelpOptions = true,
        description = {
            "Print a Markdown table of runs: method, the options that differ between the runs (from each "
                    + "config.yaml), val_loss, val_ppl, tokens/s, SVD count, bytes per parameter of weights and optimizer "
                    + "state, and peak RSS (from each summary.json; \"—\" where a run has not finished).",
            "A DIR that is not itself a run stands for every run below it (a sweep).",
            ReportCommand.WARNINGS
        })
public final class ReportCommand implements Callable<Integer> {

    /** The rule for damaged input, shared by report and plot. */
    static final String WARNINGS = "A damaged run does not stop the others: a DIR that is not a directory or holds no run,"
            + " a config.yaml or summary.json that is missing or unreadable, and a line of metrics.jsonl or subspace.jsonl"
            + " that is not JSON (cut off by a kill) are each one warning line on stderr, and the rest is reported."
            + " Exit code 0 when at least one run was reported, 2 when no run had anything usable.";

    @Parameters(arity = "1..*", paramLabel = "DIR", description = "run directories, or directories holding runs")
    List<Path> dirs;

    @Option(names = "--out", paramLabel = "FILE", description = "also write the table to FILE (not replaced unless --force)")
    Path out;

    @Option(names = "--force", description = "replace --out FILE if it exists")
    boolean force;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (out != null && Files.isDirectory(out)) {
            throw new IllegalArgumentException("--out " + out + " is a directory; give a file name");
        }
        if (out != null && Files.exists(out) && !force) {
            throw new IllegalArgumentException("--out " + out + " exists; pass --force to replace it");
        }
        Consumer<String> warn = warnings(spec);
        String table = ReportTable.markdown(load(RunLocator.find(dirs, warn), warn));
        PrintWriter stdout = spec.commandLine().getOut();
        stdout.print(table);
        stdout.flush();
        if (out != null) {
            Path parent = out.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            RunDirectory.writeAtomically(out, table);
        }
        return 0;
    }

    /**
     * Loads {@code runs}, each labelled by its path below their common parent; a run with nothing
     * usable ({@link Run#usable}) is left out. Each problem goes to {@code warn} as one line when
     * at least one run is usable; when none is, IllegalArgumentException naming the first problem.
     */
    static List<Run> load(List<Path> runs, Consumer<String> warn) throws IOException {
        Path parent = RunLocator.commonParent(runs);
        List<Run> loaded = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (Path run : runs) {
            Run r = Run.load(run, parent.relativize(run).toString().replace('\\', '/'), problems::add);
            if (r.usable()) {
                loaded.add(r);
            } else {
                problems.add(run + ": nothing of the run could be read; skipped");
            }
        }
        if (loaded.isEmpty()) {
            throw new IllegalArgumentException("no usable run: " + problems.get(0)
                    + (problems.size() > 1 ? " (and " + (problems.size() - 1) + " more problems)" : ""));
        }
        problems.forEach(warn);
        return loaded;
    }

    /** One "galore COMMAND: warning: …" line on the command's stderr per problem. */
    static Consumer<String> warnings(CommandLine.Model.CommandSpec spec) {
        PrintWriter err = spec.commandLine().getErr();
        String command = spec.commandLine().getCommandName();
        return message -> {
            err.println("galore " + command + ": warning: " + message);
            err.flush();
        };
    }
}
