package io.galore4j.trainer.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The run configuration as a tree of sections {@code model.*}, {@code data.*}, {@code train.*},
 * {@code qzo.*} (fine-tuning with {@code galore finetune --method qzo}), {@code optim.*}: the embedded defaults, then a user's YAML file, then {@code --set key=value}
 * assignments, each layer overriding the one before.
 *
 * <p>Keys of {@code model}, {@code data}, {@code train} and {@code qzo} must exist in the defaults (a typo is
 * an error, not a silently ignored setting). The {@code optim} section belongs to the galore
 * module, which validates its keys. Every problem is an {@link IllegalArgumentException} whose
 * message names the key.
 */
public final class ConfigTree {

    static final Set<String> SECTIONS = Set.of("model", "data", "train", "qzo", "optim");
    private static final String DEFAULTS = "/io/galore4j/trainer/defaults.yaml";
    /** A key given twice in one mapping (say two {@code optim:} blocks) is an error, not "the last one wins". */
    private static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build());

    private final Map<String, Object> root;
    /** Where {@link #get} notes every key read, or null ({@link #recordingReads}). */
    private final Set<String> reads;

    private ConfigTree(Map<String, Object> root, Set<String> reads) {
        this.root = root;
        this.reads = reads;
    }

    /** The embedded defaults (every known key of model, data and train). */
    public static ConfigTree defaults() {
        try (InputStream in = ConfigTree.class.getResourceAsStream(DEFAULTS)) {
            return new ConfigTree(asMap(YAML.readValue(in, Object.class), "defaults"), null);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the embedded defaults " + DEFAULTS, e);
        }
    }

    /** Rebuilds a tree from a resolved {@code config.yaml} (as written by {@link #toYaml()}). */
    public static ConfigTree of(Path resolvedYaml) throws IOException {
        return defaults().merge(resolvedYaml);
    }

    /** Rebuilds a tree from the text of a resolved {@code config.yaml} (a data-parallel worker's settings). */
    public static ConfigTree ofText(String resolvedYaml) throws IOException {
        return defaults().merge(resolvedYaml, "config.yaml");
    }

    /** Overlays a user's YAML file. */
    public ConfigTree merge(Path yamlFile) throws IOException {
        if (!Files.isRegularFile(yamlFile)) {
            throw new IllegalArgumentException("config file not found: " + yamlFile);
        }
        return merge(() -> YAML.readValue(yamlFile.toFile(), Object.class), yamlFile.toString());
    }

    private ConfigTree merge(String text, String source) throws IOException {
        return merge(() -> YAML.readValue(text, Object.class), source);
    }

    private interface YamlRead {
        Object read() throws IOException;
    }

    /** Overlays the YAML that {@code read} parses from {@code source} (named in errors). */
    private ConfigTree merge(YamlRead read, String source) throws IOException {
        Object parsed;
        try {
            parsed = read.read();
        } catch (JsonProcessingException e) {
            String duplicate = duplicateKey(e);
            if (duplicate != null) {
                throw new IllegalArgumentException("config file " + source + ": key '" + duplicate
                        + "' is given twice" + location(e) + "; give each key once");
            }
            throw new IllegalArgumentException(
                    "config file " + source + " is not valid YAML: "
                            + e.getOriginalMessage().strip().split("\\R")[0] + location(e));
        }
        if (parsed == null) {
            return this; // an empty file changes nothing
        }
        Map<String, Object> user = asMap(parsed, "config file " + source);
        ConfigTree result = copy();
        for (Map.Entry<String, Object> section : user.entrySet()) {
            String name = section.getKey();
            checkSection(name, "in " + source);
            Map<String, Object> values = asMap(section.getValue(), name);
            for (Map.Entry<String, Object> e : values.entrySet()) {
                result.put(name + "." + e.getKey(), e.getValue());
            }
        }
        return result;
    }

    /**
     * The command-line layers on top of this tree: the YAML file {@code config} merged in (when not
     * null), then each {@code key=value} of {@code sets} in order.
     */
    public ConfigTree with(Path config, java.util.List<String> sets) throws IOException {
        ConfigTree tree = config != null ? merge(config) : this;
        for (String s : sets) {
            tree = tree.set(s);
        }
        return tree;
    }

    /** Applies one {@code key=value} assignment; the value is read as YAML (numbers, lists, maps). */
    public ConfigTree set(String assignment) {
        int eq = assignment.indexOf('=');
        if (eq <= 0) {
            throw new IllegalArgumentException(
                    "--set expects key=value, got '" + assignment + "'");
        }
        String key = assignment.substring(0, eq).trim();
        String text = assignment.substring(eq + 1);
        Object value;
        try {
            value = text.isBlank() ? null : YAML.readValue(text, Object.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(
                    "--set " + key + ": value '" + text + "' is not valid YAML: "
                            + e.getOriginalMessage().strip().split("\\R")[0]);
        }
        ConfigTree result = copy();
        result.put(key, value);
        return result;
    }

    private void put(String dottedKey, Object value) {
        int dot = dottedKey.indexOf('.');
        if (dot <= 0 || dot == dottedKey.length() - 1) {
            throw new IllegalArgumentException(
                    "unknown key '" + dottedKey + "': keys are section.name, sections " + SECTIONS);
        }
        String section = dottedKey.substring(0, dot);
        String name = dottedKey.substring(dot + 1);
        checkSection(section, "");
        Map<String, Object> values = liveSection(section);
        if (!section.equals("optim") && !values.containsKey(name)) {
            throw new IllegalArgumentException("unknown key '" + dottedKey + "'");
        }
        values.put(name, value);
    }

    private static void checkSection(String section, String where) {
        if (!SECTIONS.contains(section)) {
            throw new IllegalArgumentException(
                    "unknown section '" + section + "'" + (where.isEmpty() ? "" : " " + where)
                            + ": sections are model, data, train, qzo, optim");
        }
    }

    /** A copy of this tree whose section {@code name} is replaced by {@code values}. */
    public ConfigTree withSection(String name, Map<String, Object> values) {
        checkSection(name, "");
        ConfigTree result = copy();
        result.root.put(name, deepCopy(values));
        return result;
    }

    /** A read-only view of one section (model, data, train, qzo or optim). */
    public Map<String, Object> section(String name) {
        return java.util.Collections.unmodifiableMap(liveSection(name));
    }

    private Map<String, Object> liveSection(String name) {
        return asMap(root.computeIfAbsent(name, k -> new LinkedHashMap<>()), name);
    }

    /** The value of a dotted key, or null. */
    public Object get(String dottedKey) {
        if (reads != null) {
            reads.add(dottedKey);
        }
        int dot = dottedKey.indexOf('.');
        return liveSection(dottedKey.substring(0, dot)).get(dottedKey.substring(dot + 1));
    }

    public ConfigValues values() {
        return new ConfigValues(this);
    }

    /** The resolved tree as YAML (what a run directory's config.yaml holds). */
    public String toYaml() {
        try {
            return YAML.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private ConfigTree copy() {
        return new ConfigTree(deepCopy(root), reads);
    }

    /**
     * This tree, and every tree made from it, noting into {@code sink} each dotted key read
     * through {@link #get} (so through {@link ConfigValues}): the keys the code reads, listed from
     * the code itself (docs/configuration.md's test).
     */
    public ConfigTree recordingReads(Set<String> sink) {
        return new ConfigTree(deepCopy(root), sink);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> deepCopy(Map<String, Object> map) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : map.entrySet()) {
            Object v = e.getValue();
            if (v instanceof Map) {
                v = deepCopy((Map<String, Object>) v);
            } else if (v instanceof List) {
                v = new ArrayList<>((List<Object>) v);
            }
            out.put(e.getKey(), v);
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Object o, String what) {
        if (o == null) {
            return new LinkedHashMap<>();
        }
        if (!(o instanceof Map)) {
            throw new IllegalArgumentException(what + " must be a mapping of keys to values");
        }
        return (Map<String, Object>) o;
    }

    /**
     * The dotted path of the key a duplicate-key error is about ({@code optim}, {@code train.steps}),
     * or null for any other error.
     */
    private static String duplicateKey(JsonProcessingException e) {
        if (!(e instanceof StreamReadException read) || read.getProcessor() == null
                || !String.valueOf(e.getOriginalMessage()).startsWith("Duplicate field")) {
            return null;
        }
        java.util.Deque<String> names = new java.util.ArrayDeque<>();
        for (JsonStreamContext c = read.getProcessor().getParsingContext(); c != null; c = c.getParent()) {
            if (c.inObject() && c.getCurrentName() != null) {
                names.addFirst(c.getCurrentName());
            }
        }
        return names.isEmpty() ? null : String.join(".", names);
    }

    private static String location(JsonProcessingException e) {
        return e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")";
    }
}
