package io.galore4j.trainer;

import io.galore4j.galore.ParamSettings;
import io.galore4j.quant.EnumKeys;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * How each parameter's weight is stored (fp32, int8 or split, as resolved from the method, the
 * global {@code optim.weights} with its {@code optim.weights_scope}, and {@code optim.layers}),
 * grouped by format for {@code summary.json}: per format the number of parameters, their
 * elements, and their names with every layer index replaced by {@code *}, so a 7B model's 291
 * parameters read as a dozen names.
 */
final class WeightFormats {
    private WeightFormats() {
    }

    /**
     * {format: {parameters, elements, names}} for the parameters of {@code settings}, whose shapes
     * are in {@code shapes}; formats and names in alphabetical order.
     */
    static Map<String, Object> of(Map<String, ParamSettings> settings, Map<String, long[]> shapes) {
        Map<String, long[]> counts = new TreeMap<>();
        Map<String, TreeSet<String>> names = new TreeMap<>();
        settings.forEach((name, p) -> {
            long n = 1;
            for (long d : shapes.get(name)) {
                n *= d;
            }
            String format = EnumKeys.key(p.weights());
            long[] c = counts.computeIfAbsent(format, k -> new long[2]);
            c[0]++;
            c[1] += n;
            names.computeIfAbsent(format, k -> new TreeSet<>()).add(name.replaceAll("\\.\\d+\\.", ".*."));
        });
        Map<String, Object> out = new TreeMap<>();
        counts.forEach((format, c) -> {
            Map<String, Object> group = new LinkedHashMap<>();
            group.put("parameters", c[0]);
            group.put("elements", c[1]);
            group.put("names", List.copyOf(names.get(format)));
            out.put(format, group);
        });
        return out;
    }
}
