package io.galore4j.trainer.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.galore4j.galore.OptimSettings;
import io.galore4j.trainer.data.Dataset;
import io.galore4j.trainer.model.ModelConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/configuration.md and defaults.yaml name every configuration key the code reads. The keys
 * come from the code: those read from the configuration tree ({@link ConfigTree#recordingReads})
 * while the defaults are parsed under every model preset and every optimizer method, the
 * fine-tuning keys read, and the corpus loaded; plus the keys the optim section declares
 * ({@link OptimSettings#keys()}, {@link OptimSettings#layerKeys()}).
 */
class ConfigurationDocTest {

    @TempDir
    Path dir;

    /** Every key read from the tree under the defaults, each model preset and each method. */
    private Set<String> keysRead() throws IOException {
        Set<String> read = new TreeSet<>();
        ConfigTree defaults = ConfigTree.defaults().recordingReads(read);
        for (String model : ModelConfig.presetNames()) {
            for (String method : OptimSettings.methods()) {
                RunConfig.resolve(defaults.set("model.preset=" + model).set("optim.method=" + method));
            }
        }
        RunConfig.qzo(defaults.values());
        Path text = Files.writeString(dir.resolve("text.txt"), "a line of text to train on\n".repeat(400));
        Dataset.load(defaults.set("data.path=" + text).values(), "test", null);
        return read;
    }

    @Test
    void everyKeyTheCodeReadsIsDocumentedAndInTheDefaults() throws IOException {
        Set<String> read = keysRead();
        for (String section : List.of("model.", "data.", "train.", "qzo.")) {
            assertTrue(read.stream().anyMatch(k -> k.startsWith(section)), "no key of " + section + " read: " + read);
        }
        String doc = Files.readString(Path.of("..", "docs", "configuration.md"));
        String defaultsYaml;
        try (InputStream in = ConfigTree.class.getResourceAsStream("/io/galore4j/trainer/defaults.yaml")) {
            defaultsYaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        String optimPart = defaultsYaml.substring(defaultsYaml.indexOf("\noptim:"));
        ConfigTree defaults = ConfigTree.defaults();
        List<String> missing = new ArrayList<>();
        for (String key : read) {
            if (!doc.contains("`" + key + "`")) {
                missing.add(key + " (docs/configuration.md)");
            }
            String section = key.substring(0, key.indexOf('.'));
            if (!defaults.section(section).containsKey(key.substring(key.indexOf('.') + 1))) {
                missing.add(key + " (defaults.yaml)");
            }
        }
        for (String key : OptimSettings.keys()) {
            if (!doc.contains("`optim." + key + "`")) {
                missing.add("optim." + key + " (docs/configuration.md)");
            }
            // the optim section's defaults are the method's preset; defaults.yaml lists the keys in comments
            if (!optimPart.matches("(?s).*\\n\\s*#?\\s*" + key + ":.*")) {
                missing.add("optim." + key + " (defaults.yaml)");
            }
        }
        for (String key : OptimSettings.layerKeys()) {
            if (!doc.contains("`optim.layers[]." + key + "`")) {
                missing.add("optim.layers[]." + key + " (docs/configuration.md)");
            }
        }
        assertEquals(List.of(), missing, "keys the code reads that are not documented");
    }

    @Test
    void everyPresetIsListedWithItsFile() throws IOException {
        String doc = Files.readString(Path.of("..", "docs", "configuration.md"));
        for (String method : OptimSettings.methods()) {
            assertTrue(doc.contains("galore/src/main/resources/io/galore4j/galore/presets/" + method + ".yaml"), method);
        }
        assertTrue(doc.contains("trainer/src/main/resources" + ModelConfig.PRESET_FILE), ModelConfig.PRESET_FILE);
        for (String model : ModelConfig.presetNames()) {
            assertTrue(doc.contains("| `" + model + "` |"), model);
        }
    }
}
