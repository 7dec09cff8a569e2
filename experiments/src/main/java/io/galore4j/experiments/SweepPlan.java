package io.galore4j.experiments;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a sweep runs: the base settings (the resolved YAML of defaults, --config and --set) and
 * the grid axes, expanded into one run per combination, in order (the last axis varies fastest).
 * Saved as {@value #FILE} in the sweep directory; a sweep started again in the same directory
 * resumes only if its plan is equal to the saved one.
 */
public record SweepPlan(String base, List<Axis> grid) {

    public static final String FILE = "sweep.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** One grid axis: a setting and the values it takes. */
    public record Axis(String key, List<String> values) {
    }

    /** One combination: its directory name and its {@code key=value} assignments. */
    public record Point(String name, List<String> assignments) {
    }

    public SweepPlan {
        grid = List.copyOf(grid);
    }

    /**
     * Parses {@code key=v1,v2,...} arguments: every axis needs a key and at least one non-empty
     * value, and no key may appear twice.
     */
    public static List<Axis> parseGrid(List<String> args) {
        if (args == null || args.isEmpty()) {
            throw new IllegalArgumentException("--grid: give at least one axis, e.g. --grid optim.method=adamw,q-galore");
        }
        List<Axis> axes = new ArrayList<>();
        Set<String> keys = new LinkedHashSet<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--grid expects key=v1,v2,..., got '" + arg + "'");
            }
            String key = arg.substring(0, eq).trim();
            List<String> values = new ArrayList<>();
            for (String v : arg.substring(eq + 1).split(",", -1)) {
                if (v.isBlank()) {
                    throw new IllegalArgumentException("--grid " + key + ": empty value in '" + arg.substring(eq + 1)
                            + "' (give a comma-separated list of values)");
                }
                values.add(v.trim());
            }
            if (new LinkedHashSet<>(values).size() != values.size()) {
                throw new IllegalArgumentException("--grid " + key + ": a value is listed twice in '"
                        + arg.substring(eq + 1) + "'");
            }
            if (!keys.add(key)) {
                throw new IllegalArgumentException("--grid " + key + " is given twice");
            }
            axes.add(new Axis(key, values));
        }
        return axes;
    }

    /** Every combination, named {@code NN_name=value_...} after each key's last segment. */
    public List<Point> points() {
        int total = 1;
        for (Axis a : grid) {
            total *= a.values().size();
        }
        int digits = String.valueOf(total).length();
        List<Point> points = new ArrayList<>();
        for (int i = 0; i < total; i++) {
            List<String> assignments = new ArrayList<>();
            StringBuilder name = new StringBuilder(String.format("%0" + digits + "d", i + 1));
            int rest = i;
            int[] index = new int[grid.size()];
            for (int a = grid.size() - 1; a >= 0; a--) {
                int n = grid.get(a).values().size();
                index[a] = rest % n;
                rest /= n;
            }
            for (int a = 0; a < grid.size(); a++) {
                Axis axis = grid.get(a);
                String value = axis.values().get(index[a]);
                assignments.add(axis.key() + "=" + value);
                String shortKey = axis.key().substring(axis.key().lastIndexOf('.') + 1);
                name.append('_').append((shortKey + "=" + value).replaceAll("[^A-Za-z0-9.=+-]", "-"));
            }
            points.add(new Point(name.toString(), assignments));
        }
        return points;
    }

    public void save(Path dir) throws IOException {
        Map<String, Object> json = new LinkedHashMap<>();
        List<Map<String, Object>> axes = new ArrayList<>();
        for (Axis a : grid) {
            axes.add(Map.of("key", a.key(), "values", a.values()));
        }
        json.put("grid", axes);
        json.put("base", base);
        Files.writeString(dir.resolve(FILE), JSON.writeValueAsString(json));
    }

    /** The plan saved in {@code dir}; IllegalArgumentException naming the file when it is unreadable. */
    @SuppressWarnings("unchecked")
    public static SweepPlan load(Path dir) throws IOException {
        Path file = dir.resolve(FILE);
        try {
            Map<String, Object> json = JSON.readValue(file.toFile(), Map.class);
            List<Axis> axes = new ArrayList<>();
            for (Map<String, Object> a : (List<Map<String, Object>>) json.get("grid")) {
                axes.add(new Axis((String) a.get("key"), List.copyOf((List<String>) a.get("values"))));
            }
            return new SweepPlan((String) json.get("base"), axes);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(file + " is not a readable sweep plan: " + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
        }
    }
}
