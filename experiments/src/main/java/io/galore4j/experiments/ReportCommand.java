package io.galore4j.experiments;

import io.galore4j.trainer.run.RunDirectory;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
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
            "A DIR that is not itself a run stands for every run below it (a sweep)."
        })
public final class ReportCommand implements Callable<Integer> {

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
        String table = ReportTable.markdown(load(RunLocator.find(dirs)));
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

    /** Loads {@code runs}, each labelled by its path below their common parent. */
    static List<Run> load(List<Path> runs) throws IOException {
        Path parent = RunLocator.commonParent(runs);
        List<Run> loaded = new ArrayList<>();
        for (Path run : runs) {
            loaded.add(Run.load(run, parent.relativize(run).toString().replace('\\', '/')));
        }
        return loaded;
    }
}
