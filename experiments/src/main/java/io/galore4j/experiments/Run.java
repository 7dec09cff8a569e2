package io.galore4j.experiments;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.galore4j.trainer.run.RunDirectory;
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

/**
 * One finished or unfinished training run, read from its directory: the resolved configuration
 * flattened to dotted keys ({@code optim.rank}), the logged steps, the basis refreshes and, when
 * the run finished, its summary. A missing or unreadable file reads as empty and a line of a
 * JSON-lines file that is not a JSON object with a step (one cut off by a kill) is skipped, each
 * with one warning naming the file (and the line): a damaged run is reported with what it has.
 */
public final class Run {

    /** One logged training step; {@code valLoss} is null except on evaluation steps. */
    record Step(long step, double loss, long tokens, Double valLoss) {}

    /** One basis refresh of one layer; {@code cosine} and {@code overlap} are null at its first refresh. */
    record Refresh(long step, String layer, int rank, Double cosine, Double overlap, double energy, long gap) {}

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final YAMLMapper YAML = new YAMLMapper();

    private final String label;
    private final Map<String, String> config;
    private final List<Step> steps;
    private final List<Refresh> refreshes;
    private final JsonNode summary;

    private Run(String label, Map<String, String> config, List<Step> steps, List<Refresh> refreshes,
            JsonNode summary) {
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
        return new Run(label, flat, steps(dir.resolve(RunDirectory.METRICS), warn),
                refreshes(dir.resolve(RunDirectory.SUBSPACE), warn),
                readObject(JSON, dir.resolve(RunDirectory.SUMMARY), "its results are shown as —", warn));
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
    List<Step> steps() {
        return steps;
    }

    /** The basis refreshes in the order they happened. */
    List<Refresh> refreshes() {
        return refreshes;
    }

    /** The method: summary.json's, else the configuration's {@code optim.method}, else "—". */
    String method() {
        if (summary != null && summary.hasNonNull("method")) {
            return summary.get("method").asText();
        }
        return config.getOrDefault("optim.method", "—");
    }

    /** A number of summary.json ({@code memory.optimizer} for a nested one); empty when absent or not finite. */
    OptionalDouble figure(String key) {
        JsonNode node = summary;
        for (String part : key.split("\\.")) {
            node = node == null ? null : node.get(part);
        }
        if (node == null || node.isNull()) {
            return OptionalDouble.empty();
        }
        // Jackson writes NaN and infinities as strings; asDouble reads them back.
        double value = node.isNumber() ? node.asDouble() : node.asDouble(Double.NaN);
        return Double.isFinite(value) ? OptionalDouble.of(value) : OptionalDouble.empty();
    }

    /** The last step the run reached: its last logged step or its last refresh, whichever is later. */
    long lastStep() {
        long last = steps.isEmpty() ? 0 : steps.get(steps.size() - 1).step();
        for (Refresh r : refreshes) {
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

    private static List<Step> steps(Path file, Consumer<String> warn) throws IOException {
        TreeMap<Long, Step> byStep = new TreeMap<>();
        for (JsonNode line : jsonLines(file, warn)) {
            long step = line.path("step").asLong();
            Double val = line.hasNonNull("val_loss") ? line.get("val_loss").asDouble() : null;
            byStep.put(step, new Step(step, line.path("loss").asDouble(Double.NaN), line.path("tokens").asLong(), val));
        }
        return List.copyOf(byStep.values());
    }

    private static List<Refresh> refreshes(Path file, Consumer<String> warn) throws IOException {
        List<Refresh> refreshes = new ArrayList<>();
        for (JsonNode line : jsonLines(file, warn)) {
            refreshes.add(new Refresh(line.path("step").asLong(), line.path("layer").asText(), line.path("rank").asInt(),
                    nullableDouble(line, "cosine"), nullableDouble(line, "overlap"),
                    line.path("energy").asDouble(Double.NaN), line.path("gap").asLong()));
        }
        return refreshes;
    }

    private static Double nullableDouble(JsonNode line, String key) {
        return line.hasNonNull(key) ? line.get(key).asDouble() : null;
    }

    /**
     * The JSON objects with a numeric step of a JSON-lines file (none if it is missing); each other
     * non-blank line is skipped with a warning naming the file and the line number.
     */
    private static List<JsonNode> jsonLines(Path file, Consumer<String> warn) throws IOException {
        List<JsonNode> lines = new ArrayList<>();
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
            lines.add(node);
        }
        return lines;
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
