package io.galore4j.galore;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.galore4j.quant.EnumKeys;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The methods as presets over independent options (every option can be overridden on top): one
 * YAML file per {@link Method}, {@code galore/src/main/resources/io/galore4j/galore/presets/<method>.yaml},
 * read from the classpath. Each file sets every option the method needs, in the order config.yaml
 * lists them; the options a file leaves out ({@code weights_scope}, {@code accumulation}) take
 * their defaults ({@link OptimSettings}). docs/configuration.md lists the presets and the keys.
 */
final class Presets {
    /** The classpath folder of the preset files. */
    static final String FOLDER = "/io/galore4j/galore/presets/";
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Map<Method, Map<String, Object>> LOADED = Collections.synchronizedMap(new EnumMap<>(Method.class));

    private Presets() {
    }

    /** The file name of {@code method}'s preset. */
    static String file(Method method) {
        return FOLDER + EnumKeys.key(method) + ".yaml";
    }

    /** Every option's value under {@code method}, in its file's order (a new map each call). */
    static Map<String, Object> of(Method method) {
        return new LinkedHashMap<>(LOADED.computeIfAbsent(method, Presets::read));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> read(Method method) {
        String file = file(method);
        try (InputStream in = Presets.class.getResourceAsStream(file)) {
            if (in == null) {
                throw new IllegalStateException("the preset " + file + " of optim.method " + EnumKeys.key(method)
                        + " is missing from the classpath");
            }
            return Collections.unmodifiableMap(YAML.readValue(in, LinkedHashMap.class));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the preset " + file, e);
        }
    }
}
