package io.galore4j.trainer.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.galore4j.galore.LayerwiseOptimizer;
import io.galore4j.galore.OptimSettings;
import io.galore4j.trainer.model.LlamaParameters;
import io.galore4j.trainer.model.ModelConfig;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The weights read from a checkpoint's stored tensors are, bit for bit, the weights the optimizer
 * that wrote it held, and those an optimizer restored from it holds, for each storage: INT8 codes
 * (q-galore), fp32 (adamw) and split bf16 + int8 (flash-adamw).
 */
class CheckpointWeightsTest {

    private static final ModelConfig MODEL = ModelConfig.standard(32, 2, 2, 48, 64, 16);

    @TempDir Path dir;

    @ParameterizedTest
    @CsvSource({"q-galore, int8", "adamw, fp32", "flash-adamw, split"})
    void theDecodedWeightsAreThoseTheTrainingOptimizerHeld(String method, String storage) throws Exception {
        Map<String, Object> section = new HashMap<>(Map.of("method", method));
        if (method.equals("q-galore")) {
            section.put("rank", 8);
            section.put("refresh_gap", 2);
        }
        OptimSettings settings = OptimSettings.from(section);
        Nd4j.getRandom().setSeed(7);
        Checkpoints checkpoints = new Checkpoints(dir);
        try (LayerwiseOptimizer trained = LayerwiseOptimizer.create(settings, 11)) {
            for (Map.Entry<String, long[]> e : LlamaParameters.shapes(MODEL).entrySet()) {
                trained.add(e.getKey(), Nd4j.randn(DataType.FLOAT, e.getValue()).muli(0.02));
            }
            for (int step = 0; step < 3; step++) {
                for (Map.Entry<String, long[]> e : LlamaParameters.shapes(MODEL).entrySet()) {
                    trained.update(e.getKey(), Nd4j.randn(DataType.FLOAT, e.getValue()), 1e-2, 1.0);
                }
                trained.endStep();
            }
            checkpoints.write(3, Map.of(), trained::saveState, 1);

            try (Checkpoints.Loaded c = checkpoints.latest().orElseThrow();
                    CheckpointWeights read = new CheckpointWeights(c, MODEL);
                    LayerwiseOptimizer restored = LayerwiseOptimizer.create(settings, 0)) {
                Set<Object> kinds = new HashSet<>();
                ((Map<?, ?>) c.optimizerState().get("params")).values().forEach(p -> kinds.add(((Map<?, ?>) p).get("weights")));
                assertTrue(kinds.contains(storage), method + " stores " + kinds);
                for (Map.Entry<String, long[]> e : LlamaParameters.shapes(MODEL).entrySet()) {
                    restored.add(e.getKey(), Nd4j.zeros(DataType.FLOAT, e.getValue()));
                }
                c.restore(restored); // the way a resumed run reads them
                for (String name : LlamaParameters.shapes(MODEL).keySet()) {
                    int[] held = bits(trained.weight(name));
                    int[] decoded;
                    try (INDArray w = read.read(name)) {
                        assertArrayEquals(LlamaParameters.shapes(MODEL).get(name), w.shape(), name);
                        decoded = bits(w);
                    }
                    assertArrayEquals(held, decoded, method + " " + name + ": the decoded weight");
                    assertArrayEquals(held, bits(restored.weight(name)), method + " " + name + ": the restored weight");
                    assertArrayEquals(held, bits(read.weight(name)), method + " " + name + ": as a WeightSource");
                }
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"q-galore", "flash-adamw"})
    void aCheckpointOfAnotherModelIsRefusedNamingItAndTheParameter(String method) throws Exception {
        Map<String, Object> section = new LinkedHashMap<>(Map.of("method", method, "rank", 8));
        OptimSettings settings = OptimSettings.from(section);
        Checkpoints checkpoints = new Checkpoints(dir);
        try (LayerwiseOptimizer trained = LayerwiseOptimizer.create(settings, 11)) {
            for (Map.Entry<String, long[]> e : LlamaParameters.shapes(MODEL).entrySet()) {
                trained.add(e.getKey(), Nd4j.randn(DataType.FLOAT, e.getValue()).muli(0.02));
            }
            checkpoints.write(0, Map.of(), trained::saveState, 1);
        }
        ModelConfig wider = ModelConfig.standard(32, 2, 2, 64, 64, 16);
        try (Checkpoints.Loaded c = checkpoints.latest().orElseThrow();
                CheckpointWeights read = new CheckpointWeights(c, wider)) {
            String name = "model.layers.0.mlp.up_proj.weight";
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> read.read(name));
            assertTrue(e.getMessage().startsWith("checkpoint " + c.dir() + " does not fit its run's config: parameter "
                    + name + ": ") && e.getMessage().contains("expected"), e.getMessage());
            ModelConfig deeper = ModelConfig.standard(32, 3, 2, 48, 64, 16);
            e = assertThrows(IllegalArgumentException.class, () -> new CheckpointWeights(c, deeper));
            assertTrue(e.getMessage().startsWith("checkpoint " + c.dir() + " does not fit its run's config: the"
                    + " checkpoint's parameters differ from the model's (missing [model.layers.2."), e.getMessage());
            ModelConfig shallower = ModelConfig.standard(32, 1, 2, 48, 64, 16);
            e = assertThrows(IllegalArgumentException.class, () -> new CheckpointWeights(c, shallower));
            assertTrue(e.getMessage().contains("(missing [], not in the model [model.layers.1."), e.getMessage());
        }
    }

    private static int[] bits(INDArray w) {
        float[] v = w.dup('c').data().asFloat();
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Float.floatToRawIntBits(v[i]);
        }
        return b;
    }
}
