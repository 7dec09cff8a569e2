package io.galore4j.trainer.plan;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.TreeMap;

/**
 * The measured quality of each optimizer method, as {@code galore plan} shows it: the final
 * validation loss of the method's preset on {@code micro}, from the resource
 * {@value #RESOURCE}, which names the docs/benchmarks.md section each figure comes from.
 */
public record Quality(Map<String, Figure> figures) {

    static final String RESOURCE = "/io/galore4j/trainer/plan/quality.yaml";

    /** One method's figure: the final val_loss (nats/byte), its seed count, its benchmarks.md section. */
    public record Figure(double valLoss, int seeds, String section) {
        public String describe() {
            return String.format(java.util.Locale.ROOT, "micro val_loss %.4f%s", valLoss, seeds > 1 ? " (" + seeds + " seeds)" : "");
        }
    }

    /** The figures of the resource. */
    public static Quality load() {
        try (InputStream in = Quality.class.getResourceAsStream(RESOURCE)) {
            Map<String, Map<String, Object>> raw = new ObjectMapper(new YAMLFactory()).readValue(in, new TypeReference<>() { });
            Map<String, Figure> f = new TreeMap<>();
            raw.forEach((method, v) -> f.put(method, new Figure(((Number) v.get("val_loss")).doubleValue(),
                    ((Number) v.get("seeds")).intValue(), (String) v.get("section"))));
            return new Quality(java.util.Collections.unmodifiableMap(f));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the embedded " + RESOURCE, e);
        }
    }

    /** The figure of {@code method}, or null where none was measured. */
    public Figure of(String method) {
        return figures.get(method);
    }
}
