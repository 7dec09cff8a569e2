package io.galore4j.experiments.cli;

import io.galore4j.experiments.PlotWriter;
import io.galore4j.experiments.Run;
import io.galore4j.experiments.RunLocator;
import io.galore4j.experiments.SubspaceCharts;
import io.galore4j.experiments.TrainingCharts;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code galore plot}: PNG and SVG charts of one run, or of several runs side by side. */
@Command(
        name = "plot",
        header = "Write PNG and SVG charts of runs.",
        mixinStandardHelpOptions = true,
        description = {
            "Write PNG and SVG charts of runs (headless): training loss against step and tokens and validation "
                    + "loss against step (runs overlaid); memory by component; and for each run with subspace.jsonl lines, "
                    + "per layer the overlap and |cos| at each refresh, the refresh gap over time, the energy captured, and "
                    + "the SVD events. A DIR that is not itself a run stands for every run below it (a sweep).",
            "One run: the images go to DIR/plots/. Several runs: to --out, by default plots/ in their common parent.",
            ReportCommand.WARNINGS
        })
public final class PlotCommand implements Callable<Integer> {

    @Parameters(arity = "1..*", paramLabel = "DIR", description = "run directories, or directories holding runs")
    List<Path> dirs;

    @Option(names = "--out", paramLabel = "DIR",
            description = "directory for the images (default: the run's plots/, or plots/ in the runs' common parent);"
                    + " an image already there is not replaced unless --force")
    Path out;

    @Option(names = "--force", description = "replace images of the same name in --out DIR")
    boolean force;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Consumer<String> warn = ReportCommand.warnings(spec);
        List<Path> found = RunLocator.find(dirs, warn);
        Path target = out != null ? out
                : (found.size() == 1 ? found.get(0) : RunLocator.commonParent(found)).resolve("plots");
        // the default places are galore's own plots/ directories, whose images a new plot replaces
        write(found, target, spec.commandLine().getOut(), warn, out == null || force);
        return 0;
    }

    /**
     * Writes every chart of the runs {@code found} into {@code target}, replacing earlier images,
     * reporting to {@code stdout} and each damaged file or line to {@code warn}.
     */
    static void write(List<Path> found, Path target, PrintWriter stdout, Consumer<String> warn) throws IOException {
        write(found, target, stdout, warn, true);
    }

    /**
     * Writes every chart of the runs {@code found} into {@code target}, reporting to
     * {@code stdout} and each damaged file or line to {@code warn}; unless {@code replace}, an
     * image that exists already is refused (IllegalArgumentException) and left as it is.
     */
    static void write(List<Path> found, Path target, PrintWriter stdout, Consumer<String> warn, boolean replace)
            throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<Run> runs = ReportCommand.load(found, warn);
        createDirectory(target);
        PlotWriter plots = new PlotWriter(target, stdout, replace);
        TrainingCharts.writeAll(runs, plots);
        for (Run run : runs) {
            SubspaceCharts.write(run, runs.size() == 1 ? "" : "-" + fileName(run.label()), plots);
        }
        stdout.println(plots.written().size() / 2 + " charts of " + runs.size() + (runs.size() == 1 ? " run" : " runs")
                + " in " + target);
        stdout.flush();
    }

    private static void createDirectory(Path dir) throws IOException {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--out " + dir + " is a file, not a directory");
        }
        try {
            Files.createDirectories(dir);
        } catch (FileSystemException e) {
            throw new IllegalArgumentException("cannot write plots to " + dir + ": "
                    + (e.getReason() != null ? e.getReason() : e.getClass().getSimpleName()));
        }
    }

    /** A run's label as part of a file name: {@code sweep/rank=8} → {@code sweep_rank=8}. */
    private static String fileName(String label) {
        return label.replaceAll("[^A-Za-z0-9._=+-]", "_");
    }
}
