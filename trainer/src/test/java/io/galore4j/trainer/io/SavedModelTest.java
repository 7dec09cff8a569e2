package io.galore4j.trainer.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.galore4j.galore.LayerwiseOptimizer;
import io.galore4j.galore.OptimSettings;
import io.galore4j.trainer.model.DenseWeights;
import io.galore4j.trainer.model.LlamaModel;
import io.galore4j.trainer.model.LlamaParameters;
import io.galore4j.trainer.model.ModelConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The saved model is the optimizer's current weights, bit for bit, even when the optimizer stores
 * INT8 codes and hands out pooled fp32 buffers (Q-GaLore), and it loads back into a model that
 * computes the same loss.
 */
class SavedModelTest {

    /** hidden 16, 2 layers, 2 heads, intermediate 24, vocab 11, seq 6: q/k/v/o share one pooled shape. */
    private static final ModelConfig TINY = ModelConfig.standard(16, 2, 2, 24, 11, 6);

    @TempDir
    Path dir;

    private static int[][] batch(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[][] b = new int[3][TINY.seqLen() + 1];
        for (int[] row : b) {
            for (int t = 0; t < row.length; t++) {
                row[t] = r.nextInt(TINY.vocab());
            }
        }
        return b;
    }

    private static float[] copy(INDArray w) {
        return w.dup('c').data().asFloat();
    }

    @Test
    void savedTensorsEqualTheOptimizersInt8WeightsAndReproduceTheLoss() throws IOException {
        OptimSettings s = OptimSettings.from(Map.of("method", "q-galore", "rank", 4, "refresh_gap", 2));
        try (LayerwiseOptimizer opt = LayerwiseOptimizer.create(s, 7)) {
            DenseWeights init = DenseWeights.initialize(TINY, DataType.FLOAT, 7);
            Map<String, float[]> initial = new java.util.HashMap<>();
            for (Map.Entry<String, INDArray> e : init.asMap().entrySet()) {
                initial.put(e.getKey(), copy(e.getValue()));
                opt.add(e.getKey(), e.getValue());
            }
            LlamaModel net = new LlamaModel(TINY, opt::weight);
            for (int step = 0; step < 3; step++) {
                net.forwardBackward(batch(step), (name, grad) -> opt.update(name, grad, 0.01, 1.0));
                opt.endStep();
            }
            SavedModel.save(dir, TINY, "byte", opt::weight);

            String q0 = LlamaParameters.attention(0, 'q');
            try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(SavedModel.WEIGHTS))) {
                assertEquals(List.copyOf(LlamaParameters.shapes(TINY).keySet()),
                        f.tensors().stream().map(TensorInfo::name).toList(), "every parameter, in order");
                for (Map.Entry<String, long[]> e : LlamaParameters.shapes(TINY).entrySet()) {
                    TensorInfo t = f.tensor(e.getKey());
                    assertEquals(Dtype.F32, t.dtype());
                    assertEquals(List.of(box(e.getValue())), List.of(box(t.shape())), e.getKey());
                    float[] saved = f.read(e.getKey());
                    float[] current = copy(opt.weight(e.getKey()));
                    for (int i = 0; i < saved.length; i++) {
                        assertEquals(Float.floatToRawIntBits(current[i]), Float.floatToRawIntBits(saved[i]),
                                e.getKey() + "[" + i + "]");
                    }
                }
                // training moved the weights, so the file is not just the initialization
                assertNotEquals(initial.get(q0)[0], f.read(q0)[0]);
                Map<String, String> m = f.metadata();
                assertEquals("16", m.get("hidden"));
                assertEquals("2", m.get("layers"));
                assertEquals("2", m.get("heads"));
                assertEquals("24", m.get("intermediate"));
                assertEquals("11", m.get("vocab"));
                assertEquals("6", m.get("seq_len"));
                assertEquals(10000.0, Double.parseDouble(m.get("rope_theta")));
                assertEquals(1e-6, Double.parseDouble(m.get("norm_eps")));
                assertEquals("byte", m.get("tokenizer"));
            }

            DenseWeights loaded = SavedModel.load(dir.resolve(SavedModel.WEIGHTS), TINY);
            int[][] probe = batch(99);
            assertEquals(net.loss(probe), new LlamaModel(TINY, loaded).loss(probe), 0.0,
                    "the loaded model computes the trained model's loss exactly");
        }

        JsonNode hf = new ObjectMapper().readTree(dir.resolve(SavedModel.HF_CONFIG).toFile());
        assertEquals("LlamaForCausalLM", hf.get("architectures").get(0).asText());
        assertEquals(16, hf.get("hidden_size").asInt());
        assertEquals(24, hf.get("intermediate_size").asInt());
        assertEquals(2, hf.get("num_attention_heads").asInt());
        assertEquals(2, hf.get("num_key_value_heads").asInt());
        assertEquals(2, hf.get("num_hidden_layers").asInt());
        assertEquals(11, hf.get("vocab_size").asInt());
        assertEquals(6, hf.get("max_position_embeddings").asInt());
        assertEquals(1e-6, hf.get("rms_norm_eps").asDouble());
        assertEquals(10000.0, hf.get("rope_theta").asDouble());
        assertEquals(false, hf.get("tie_word_embeddings").asBoolean());
        assertEquals("float32", hf.get("torch_dtype").asText());
    }

    @Test
    void loadRefusesTensorsThatDoNotMatchTheConfig() throws IOException {
        DenseWeights w = DenseWeights.initialize(TINY, DataType.FLOAT, 1);
        SavedModel.save(dir, TINY, "byte", w);
        Path file = dir.resolve(SavedModel.WEIGHTS);

        ModelConfig wider = ModelConfig.standard(16, 2, 2, 20, 11, 6);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SavedModel.load(file, wider));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains(LlamaParameters.mlp(0, "gate"))
                && e.getMessage().contains("[20, 16]"), e.getMessage());

        ModelConfig shallower = ModelConfig.standard(16, 1, 2, 24, 11, 6);
        e = assertThrows(IllegalArgumentException.class, () -> SavedModel.load(file, shallower));
        assertTrue(e.getMessage().contains("model.layers.1."), e.getMessage());

        ModelConfig deeper = ModelConfig.standard(16, 3, 2, 24, 11, 6);
        e = assertThrows(IllegalArgumentException.class, () -> SavedModel.load(file, deeper));
        assertTrue(e.getMessage().contains(LlamaParameters.inputNorm(2)) && e.getMessage().contains("missing"),
                e.getMessage());
    }

    private static Long[] box(long[] a) {
        return java.util.Arrays.stream(a).boxed().toArray(Long[]::new);
    }
}
