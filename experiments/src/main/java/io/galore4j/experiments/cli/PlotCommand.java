package io.galore4j.experiments.cli;

import io.galore4j.experiments.Plots;
import io.galore4j.experiments.RunLocator;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

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

    @Mixin RunDirs dirs;

    @Option(names = "--out", paramLabel = "DIR",
            description = "directory for the images (default: the run's plots/, or plots/ in the runs' common parent);"
                    + " an image already there is not replaced unless --force")
    Path out;

    @Mixin ForceOption force;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        List<Path> found = dirs.find();
        Path target = out != null ? out
                : (found.size() == 1 ? found.get(0) : RunLocator.commonParent(found)).resolve("plots");
        // the default places are galore's own plots/ directories, whose images a new plot replaces
        Plots.write(found, target, spec.commandLine().getOut(), dirs.warnings(), out == null || force.force);
        return 0;
    }
}
