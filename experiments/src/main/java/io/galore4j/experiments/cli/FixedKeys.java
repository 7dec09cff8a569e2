package io.galore4j.experiments.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The settings a user fixed on the command line: the keys of a {@code --config} file and of each
 * {@code --set}. A memory plan ({@code galore plan}, {@code train --budget}) varies only the others.
 */
final class FixedKeys {

    private FixedKeys() {
    }

    /** The dotted keys {@code --set} assignments name. */
    static Set<String> ofSets(List<String> sets) {
        Set<String> keys = new LinkedHashSet<>();
        for (String s : sets) {
            int eq = s.indexOf('=');
            keys.add((eq < 0 ? s : s.substring(0, eq)).trim());
        }
        return keys;
    }

    /** The dotted keys a YAML settings file sets (section.key); the file was already read as settings. */
    static Set<String> ofFile(Path yaml) throws IOException {
        Set<String> keys = new LinkedHashSet<>();
        Object root = new ObjectMapper(new YAMLFactory()).readValue(yaml.toFile(), Object.class);
        if (root instanceof Map<?, ?> sections) {
            sections.forEach((section, values) -> {
                if (values instanceof Map<?, ?> m) {
                    m.keySet().forEach(k -> keys.add(section + "." + k));
                }
            });
        }
        return keys;
    }
}
