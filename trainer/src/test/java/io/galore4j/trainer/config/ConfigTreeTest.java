package io.galore4j.trainer.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigTreeTest {

    @Test
    void laterLayersOverrideEarlierOnes(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("c.yaml");
        Files.writeString(file, "train:\n  steps: 50\n  batch_size: 4\n");
        ConfigTree tree = ConfigTree.defaults().merge(file).set("train.steps=7");
        TrainSettings t = TrainSettings.from(tree);
        assertEquals(7, t.steps());
        assertEquals(4, t.batchSize());
        assertEquals(40, t.warmup()); // untouched default
    }

    @Test
    void resolvedYamlReadsBackToTheSameTree(@TempDir Path dir) throws Exception {
        ConfigTree tree = ConfigTree.defaults().set("train.steps=9").set("optim.rank=32");
        Path file = dir.resolve("config.yaml");
        Files.writeString(file, tree.toYaml());
        ConfigTree back = ConfigTree.of(file);
        assertEquals(tree.toYaml(), back.toYaml());
        assertEquals(32, back.get("optim.rank"));
    }

    @Test
    void unknownKeysAndSectionsAreRejectedByName() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> ConfigTree.defaults().set("train.stepz=3"));
        assertTrue(e.getMessage().contains("train.stepz"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ConfigTree.defaults().set("trian.steps=3"));
        assertTrue(e.getMessage().contains("trian"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ConfigTree.defaults().set("steps"));
    }

    @Test
    void outOfRangeValuesNameTheKeyAndValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainSettings.from(ConfigTree.defaults().set("train.steps=0")));
        assertTrue(e.getMessage().contains("train.steps") && e.getMessage().contains("0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> TrainSettings.from(ConfigTree.defaults().set("train.batch_size=many")));
        assertTrue(e.getMessage().contains("train.batch_size"), e.getMessage());
    }

    @Test
    void malformedYamlIsOneClearError(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("bad.yaml");
        Files.writeString(file, "train:\n  steps: [1, 2\n");
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> ConfigTree.defaults().merge(file));
        assertTrue(e.getMessage().contains("not valid YAML"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> ConfigTree.defaults().merge(dir.resolve("missing.yaml")));
    }

    @Test
    void aKeyOrSectionGivenTwiceIsRefusedNamingItAndTheFile(@TempDir Path dir) throws Exception {
        Path sections = dir.resolve("two-optim.yaml");
        Files.writeString(sections, "optim:\n  method: adamw\ntrain:\n  steps: 5\noptim:\n  rank: 8\n");
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> ConfigTree.defaults().merge(sections));
        assertEquals("config file " + sections + ": key 'optim' is given twice (line 5); give each key once", e.getMessage());

        Path keys = dir.resolve("two-steps.yaml");
        Files.writeString(keys, "train:\n  steps: 5\n  batch_size: 2\n  steps: 6\n");
        e = assertThrows(IllegalArgumentException.class, () -> ConfigTree.defaults().merge(keys));
        assertEquals("config file " + keys + ": key 'train.steps' is given twice (line 4); give each key once", e.getMessage());

        // the same key in two different sections is two keys
        Path distinct = dir.resolve("distinct.yaml");
        Files.writeString(distinct, "train:\n  seed: 1\nqzo:\n  lr: 1.0e-6\noptim:\n  lr: 0.01\n");
        assertEquals(0.01, ConfigTree.defaults().merge(distinct).get("optim.lr"));
    }
}
