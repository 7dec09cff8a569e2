package io.galore4j.experiments.cli;

import io.galore4j.experiments.ReportTable;
import io.galore4j.experiments.Run;
import io.galore4j.trainer.run.RunDirectory;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

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

    @Mixin RunDirs dirs;

    @Option(names = "--out", paramLabel = "FILE", description = "also write the table to FILE (not replaced unless --force)")
    Path out;

    @Mixin ForceOption force;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (out != null && Files.isDirectory(out)) {
            throw new IllegalArgumentException("--out " + out + " is a directory; give a file name");
        }
        if (out != null && Files.exists(out) && !force.force) {
            throw new IllegalArgumentException("--out " + out + " exists; pass --force to replace it");
        }
        String table = ReportTable.markdown(Run.loadAll(dirs.find(), dirs.warnings()));
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
}
