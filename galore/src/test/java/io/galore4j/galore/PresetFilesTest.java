package io.galore4j.galore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.galore4j.quant.EnumKeys;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The method presets are files (presets/*.yaml on the classpath), one per {@link Method}, and each
 * resolves to exactly the settings the presets had when they were built in code: the optim
 * section (values and their Java types, in config.yaml's order) and the effective settings of
 * every kind of parameter, as recorded from that code in presets-before.txt.
 */
class PresetFilesTest {

    @Test
    void everyPresetResolvesAsTheCodeBuiltItBefore() throws IOException {
        List<String> before;
        try (InputStream in = PresetFilesTest.class.getResourceAsStream("presets-before.txt")) {
            assertNotNull(in, "presets-before.txt");
            before = List.of(new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n"));
        }
        List<String> now = new ArrayList<>();
        for (String m : new TreeSet<>(OptimSettings.methods())) {
            now.addAll(PresetRecord.lines(m));
        }
        assertEquals(before.size(), now.size(), "one line per preset and parameter kind");
        for (int i = 0; i < before.size(); i++) {
            assertEquals(before.get(i), now.get(i));
        }
    }

    @Test
    void oneFilePerMethodAndNoOtherFile() throws URISyntaxException, IOException {
        Path folder = Path.of(Presets.class.getResource(Presets.FOLDER).toURI());
        TreeSet<String> files = new TreeSet<>();
        try (Stream<Path> s = Files.list(folder)) {
            s.forEach(p -> files.add(p.getFileName().toString()));
        }
        TreeSet<String> methods = new TreeSet<>();
        for (Method m : Method.values()) {
            methods.add(EnumKeys.key(m) + ".yaml");
            assertEquals(Presets.file(m), Presets.FOLDER + EnumKeys.key(m) + ".yaml");
        }
        assertEquals(methods, files);
    }
}
