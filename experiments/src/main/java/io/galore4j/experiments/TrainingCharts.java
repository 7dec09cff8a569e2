package io.galore4j.experiments;

import io.galore4j.trainer.MemoryEstimate;
import io.galore4j.trainer.run.MetricsLine;
import io.galore4j.trainer.run.Summary;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.XYChart;

/**
 * The charts that compare runs: training loss against step and against tokens, validation loss
 * against step (runs overlaid), and the memory of each run by component.
 */
final class TrainingCharts {

    /** summary.json's {@code memory} components, stacked in this order (total_bytes is their sum). */
    static final List<String> MEMORY_COMPONENTS = MemoryEstimate.COMPONENTS;

    private TrainingCharts() {
    }

    static void writeAll(List<Run> runs, PlotWriter plots) throws IOException {
        lossAgainst("loss-step", "step", MetricsLine::step, runs, plots);
        lossAgainst("loss-tokens", "tokens", MetricsLine::tokensOrZero, runs, plots);
        validationLoss(runs, plots);
        memory(runs, plots);
    }

    private static void lossAgainst(String name, String x, ToDoubleFunction<MetricsLine> xOf, List<Run> runs,
            PlotWriter plots) throws IOException {
        List<Run> logged = runs.stream().filter(r -> !r.steps().isEmpty()).toList();
        noteMissing(name, runs, logged, "no metrics.jsonl lines", plots);
        if (logged.isEmpty()) {
            plots.skip(name, "no run has logged a step");
            return;
        }
        XYChart chart = Charts.xy("Training loss against " + x, x, "training loss", logged.size());
        for (Run run : logged) {
            chart.addSeries(run.label(), run.steps().stream().mapToDouble(xOf).toArray(),
                    run.steps().stream().mapToDouble(MetricsLine::lossOrNaN).toArray());
        }
        plots.write(name, chart);
    }

    private static void validationLoss(List<Run> runs, PlotWriter plots) throws IOException {
        String name = "val-loss-step";
        List<Run> evaluated = runs.stream().filter(r -> r.steps().stream().anyMatch(s -> s.valLoss() != null)).toList();
        noteMissing(name, runs, evaluated, "no evaluation lines", plots);
        if (evaluated.isEmpty()) {
            plots.skip(name, "no run has evaluated");
            return;
        }
        XYChart chart = Charts.xy("Validation loss against step", "step", "validation loss", evaluated.size());
        for (Run run : evaluated) {
            List<MetricsLine> evals = run.steps().stream().filter(s -> s.valLoss() != null).toList();
            chart.addSeries(run.label(), evals.stream().mapToDouble(MetricsLine::step).toArray(),
                    evals.stream().mapToDouble(MetricsLine::valLoss).toArray());
        }
        plots.write(name, chart);
    }

    /** Stacked bars, one per run, of summary.json's memory components in MiB. */
    private static void memory(List<Run> runs, PlotWriter plots) throws IOException {
        String name = "memory";
        List<Run> measured = runs.stream().filter(r -> r.memory(Summary.Memory::totalBytes).isPresent()).toList();
        noteMissing(name, runs, measured, "no memory in summary.json (unfinished?)", plots);
        if (measured.isEmpty()) {
            plots.skip(name, "no run has a summary.json with memory");
            return;
        }
        CategoryChart chart = Charts.bars("Memory by component (summary.json)", "run", "MiB", MEMORY_COMPONENTS.size());
        chart.getStyler().setStacked(true);
        List<String> labels = measured.stream().map(Run::label).toList();
        for (String component : MEMORY_COMPONENTS) {
            List<Double> mib = new ArrayList<>();
            for (Run run : measured) {
                mib.add(run.memory(m -> m.components().get(component)).orElse(0) / (1024.0 * 1024.0));
            }
            if (component.equals("exchange_buffers") && mib.stream().allMatch(v -> v == 0)) {
                continue; // only data-parallel runs hold exchange buffers
            }
            chart.addSeries(component, labels, mib);
        }
        plots.write(name, chart);
    }

    private static void noteMissing(String name, List<Run> all, List<Run> kept, String why, PlotWriter plots) {
        if (!kept.isEmpty()) {
            all.stream().filter(r -> !kept.contains(r)).forEach(r -> plots.skip(name + " for " + r.label(), why));
        }
    }
}
