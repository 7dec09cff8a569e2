package io.galore4j.experiments;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.galore4j.trainer.run.MetricsLine;
import io.galore4j.trainer.run.RunDirectory;
import io.galore4j.trainer.run.RunJson;
import io.galore4j.trainer.run.SubspaceLine;
import io.galore4j.trainer.run.Summary;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One finished or unfinished training run, read from its directory: the resolved configuration
 * flattened to dotted keys ({@code optim.rank}), the logged steps, the basis refreshes and, when
 * the run finished, its summary, read into the records the trainer writes them from
 * ({@link MetricsLine}, {@link SubspaceLine}, {@link Summary}). A missing or unreadable file reads
 * as empty and a line of a JSON-lines file that is not a JSON object with a step (one cut off by a
 * kill) or whose fields do not fit its record is skipped, each with one warning naming the file
 * (and the line): a damaged run is reported with what it has.
 */
public final class Run {

    private static final ObjectMapper JSON = RunJson.MAPPER;
    private static final YAMLMapper YAML = new YAMLMapper();

    private final String label;
    private final Map<String, String> config;
    private final List<MetricsLine> steps;
    private final List<SubspaceLine> refreshes;
    private final Summary summary;

    private Run(String label, Map<String, String> config, List<MetricsLine> steps, List<SubspaceLine> refreshes,
            Summary summary) {
        this.label = label;
        this.config = config;
        this.steps = steps;
        this.refreshes = refreshes;
        this.summary = summary;
    }

    /**
     * Reads the run in {@code dir}; {@code label} names it in tables and legends. Each problem
     * (config.yaml or summary.json missing or unreadable, a bad line) goes to {@code warn} as one
     * line.
     */
    static Run load(Path dir, String label, Consumer<String> warn) throws IOException {
        Map<String, String> flat = new LinkedHashMap<>();
        flatten("", readObject(YAML, dir.resolve(RunDirectory.CONFIG), "its settings are not shown", warn), flat);
        TreeMap<Long, MetricsLine> byStep = new TreeMap<>(); // a step logged twice (a resumed run): the later line
        lines(dir.resolve(RunDirectory.METRICS), MetricsLine.class, warn).forEach(l -> byStep.put(l.step(), l));
        Path summary = dir.resolve(RunDirectory.SUMMARY);
        String noSummary = "its results are shown as —";
        return new Run(label, flat, List.copyOf(byStep.values()),
                lines(dir.resolve(RunDirectory.SUBSPACE), SubspaceLine.class, warn),
                read(readObject(JSON, summary, noSummary, warn), Summary.class, summary, noSummary, warn));
    }

    /**
     * Loads {@code runs}, each labelled by its path below their common parent; a run with nothing
     * usable ({@link Run#usable}) is left out. Each problem goes to {@code warn} as one line when
     * at least one run is usable; when none is, IllegalArgumentException naming the first problem.
     */
    public static List<Run> loadAll(List<Path> runs, Consumer<String> warn) throws IOException {
        Path parent = RunLocator.commonParent(runs);
        List<Run> loaded = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (Path run : runs) {
            Run r = load(run, parent.relativize(run).toString().replace('\\', '/'), problems::add);
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

    /** Whether anything of the run could be read: settings, a summary, a logged step or a refresh. */
    boolean usable() {
        return !config.isEmpty() || summary != null || !steps.isEmpty() || !refreshes.isEmpty();
    }

    String label() {
        return label;
    }

    /** The resolved configuration as dotted keys in file order; lists are kept as their JSON text. */
    Map<String, String> config() {
        return config;
    }

    /** The logged steps in step order; where a step was logged twice (a resumed run) the later line wins. */
    List<MetricsLine> steps() {
        return steps;
    }

    /** The basis refreshes in the order they happened. */
    List<SubspaceLine> refreshes() {
        return refreshes;
    }

    /** The method: summary.json's, else the configuration's {@code optim.method}, else "—". */
    String method() {
        if (summary != null && summary.method() != null) {
            return summary.method();
        }
        return config.getOrDefault("optim.method", "—");
    }

    /**
     * A number of summary.json, {@code figure} of its {@link Summary} (of its memory for
     * {@link #memory}); empty when the run has no summary, the summary lacks it, or it is not
     * finite (Jackson writes NaN and infinities as strings, read back as such).
     */
    OptionalDouble figure(Function<Summary, ? extends Number> figure) {
        Number n = summary == null ? null : figure.apply(summary);
        return n == null || !Double.isFinite(n.doubleValue()) ? OptionalDouble.empty() : OptionalDouble.of(n.doubleValue());
    }

    /** A component of summary.json's {@code memory}, as {@link #figure}. */
    OptionalDouble memory(Function<Summary.Memory, ? extends Number> component) {
        return figure(s -> s.memory() == null ? null : component.apply(s.memory()));
    }

    /** The last step the run reached: its last logged step or its last refresh, whichever is later. */
    long lastStep() {
        long last = steps.isEmpty() ? 0 : steps.get(steps.size() - 1).step();
        for (SubspaceLine r : refreshes) {
            last = Math.max(last, r.step());
        }
        return last;
    }

    private static void flatten(String prefix, JsonNode node, Map<String, String> into) {
        if (node == null || node.isMissingNode()) {
            return; // an empty file
        }
        if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue(), into);
            }
        } else if (!prefix.isEmpty()) {
            into.put(prefix, node.isValueNode() ? node.asText() : node.toString());
        }
    }

    /**
     * The lines of a JSON-lines file as {@code type}, in file order (none if it is missing); each
     * line that is not a JSON object with a numeric step, or does not fit {@code type}, is skipped
     * with a warning naming the file and the line number.
     */
    private static <T> List<T> lines(Path file, Class<T> type, Consumer<String> warn) throws IOException {
        List<T> lines = new java.util.ArrayList<>();
        if (!Files.isRegularFile(file)) {
            return lines;
        }
        List<String> text = List.of(new String(Files.readAllBytes(file), StandardCharsets.UTF_8).split("\\R", -1));
        for (int i = 0; i < text.size(); i++) {
            if (text.get(i).isBlank()) {
                continue;
            }
            JsonNode node;
            try {
                node = JSON.readTree(text.get(i));
            } catch (JsonProcessingException e) {
                warn.accept(file + " line " + (i + 1) + " is not JSON (cut off?): skipped");
                continue;
            }
            if (node == null || !node.isObject() || !node.path("step").isNumber()) {
                warn.accept(file + " line " + (i + 1) + " is not a JSON object with a numeric step: skipped");
                continue;
            }
            try {
                lines.add(JSON.treeToValue(node, type));
            } catch (JsonProcessingException e) {
                warn.accept(file + " line " + (i + 1) + " has a field of the wrong type ("
                        + e.getOriginalMessage().lines().findFirst().orElse("") + "): skipped");
            }
        }
        return lines;
    }

    /** {@code node} as {@code type}, or null with a warning (ending in {@code consequence}) when it does not fit. */
    private static <T> T read(JsonNode node, Class<T> type, Path file, String consequence, Consumer<String> warn) {
        if (node == null) {
            return null;
        }
        try {
            return JSON.treeToValue(node, type);
        } catch (JsonProcessingException e) {
            warn.accept(file + " has a field of the wrong type (" + e.getOriginalMessage().lines().findFirst().orElse("")
                    + "); " + consequence);
            return null;
        }
    }

    /** The JSON object in {@code file}, or null with a warning (ending in {@code consequence}) when there is none. */
    private static JsonNode readObject(ObjectMapper mapper, Path file, String consequence, Consumer<String> warn)
            throws IOException {
        String problem;
        if (!Files.isRegularFile(file)) {
            problem = "is missing";
        } else {
            try {
                JsonNode node = mapper.readTree(file.toFile());
                if (node != null && node.isObject()) {
                    return node;
                }
                problem = "is empty or not a mapping";
            } catch (JsonProcessingException e) {
                problem = "is corrupt (" + String.valueOf(e.getOriginalMessage()).lines().findFirst().orElse("")
                        + (e.getLocation() == null ? "" : ", line " + e.getLocation().getLineNr()) + ")";
            }
        }
        warn.accept(file + " " + problem + "; " + consequence);
        return null;
    }
}
