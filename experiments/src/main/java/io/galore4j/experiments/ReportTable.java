package io.galore4j.experiments;

import io.galore4j.trainer.run.Summary;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.function.Function;

/**
 * The comparison of runs as a Markdown table: one row per run with its method, the configuration
 * options whose values differ between the runs, and the figures of its {@code summary.json}.
 * A figure the run does not have (it has not finished, or never evaluated) is shown as "—".
 */
public final class ReportTable {

    static final String MISSING = "—";

    /** Shown in the method column, so left out of the option columns. */
    private static final String METHOD_KEY = "optim.method";

    private static final double MIB = 1024.0 * 1024.0;

    /** A figure column: its heading and how a run's value is computed and printed. */
    private record Figure(String heading, Function<Run, OptionalDouble> value, String format) {}

    private static final List<Figure> FIGURES = List.of(
            new Figure("val_loss", r -> r.figure(Summary::valLoss), "%.4f"),
            new Figure("val_ppl", r -> r.figure(Summary::valPpl), "%.3f"),
            new Figure("tokens/s", r -> r.figure(Summary::tokensPerS), "%.1f"),
            new Figure("SVDs", r -> r.figure(Summary::svdCount), "%.0f"),
            new Figure("bytes/param (weights + optimizer)", ReportTable::bytesPerParameter, "%.3f"),
            new Figure("peak RSS (MiB)", r -> divide(r.figure(Summary::peakRssBytes), MIB), "%.1f"));

    private ReportTable() {
    }

    /** The table for {@code runs}, one line per row, ending with a newline. */
    public static String markdown(List<Run> runs) {
        List<String> options = differingOptions(runs);
        List<String> heading = new ArrayList<>(List.of("run", "method"));
        heading.addAll(options);
        FIGURES.forEach(f -> heading.add(f.heading()));

        StringBuilder table = new StringBuilder();
        appendRow(table, heading);
        appendRow(table, heading.stream().map(h -> h.equals("run") || h.equals("method") || options.contains(h)
                ? "---" : "---:").toList());
        for (Run run : runs) {
            List<String> row = new ArrayList<>(List.of(run.label(), run.method()));
            options.forEach(key -> row.add(run.config().getOrDefault(key, MISSING)));
            for (Figure f : FIGURES) {
                OptionalDouble v = f.value().apply(run);
                row.add(v.isPresent() ? String.format(Locale.ROOT, f.format(), v.getAsDouble()) : MISSING);
            }
            appendRow(table, row);
        }
        return table.toString();
    }

    /**
     * The configuration keys (first-seen order) whose values are not the same in every run; a key
     * that some runs lack counts as differing. One run has no differing keys.
     */
    private static List<String> differingOptions(List<Run> runs) {
        Set<String> keys = new LinkedHashSet<>();
        runs.forEach(r -> keys.addAll(r.config().keySet()));
        keys.remove(METHOD_KEY);
        return keys.stream()
                .filter(key -> runs.stream().map(r -> r.config().get(key)).distinct().count() > 1)
                .toList();
    }

    /**
     * Stored weights, bases and moments with their scales per parameter, as {@code galore memory}
     * prints it: memory.persistent_bytes_per_param, or for a summary written before the run's own
     * account had it, the same figure of its memory_estimate.
     */
    private static OptionalDouble bytesPerParameter(Run run) {
        OptionalDouble live = run.memory(Summary.Memory::persistentBytesPerParam);
        return live.isPresent() ? live : run.figure(s -> s.memoryEstimate() == null ? null
                : s.memoryEstimate().persistentBytesPerParam());
    }

    private static OptionalDouble divide(OptionalDouble value, double by) {
        return value.isPresent() ? OptionalDouble.of(value.getAsDouble() / by) : value;
    }

    private static void appendRow(StringBuilder table, List<String> cells) {
        table.append('|');
        for (String cell : cells) {
            table.append(' ').append(escape(Objects.toString(cell))).append(" |");
        }
        table.append('\n');
    }

    /** A cell's text with the characters that would break a Markdown table row escaped. */
    private static String escape(String cell) {
        return cell.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ");
    }
}
