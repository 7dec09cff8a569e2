package io.galore4j.trainer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ModelConfigTest {

    private static String error(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    @Test
    void everyFieldIsValidatedWithItsName() {
        assertEquals("model.heads must divide model.hidden (hidden=256, heads=3)",
                error(() -> ModelConfig.standard(256, 4, 3, 688, 256, 128)));
        assertEquals("model.hidden must be > 0, got 0", error(() -> ModelConfig.standard(0, 4, 4, 688, 256, 128)));
        assertEquals("model.layers must be > 0, got -1", error(() -> ModelConfig.standard(256, -1, 4, 688, 256, 128)));
        assertEquals("model.heads must be > 0, got 0", error(() -> ModelConfig.standard(256, 4, 0, 688, 256, 128)));
        assertEquals("model.intermediate must be > 0, got 0", error(() -> ModelConfig.standard(256, 4, 4, 0, 256, 128)));
        assertEquals("model.vocab must be > 0, got 0", error(() -> ModelConfig.standard(256, 4, 4, 688, 0, 128)));
        assertEquals("model.seq_len must be > 0, got 0", error(() -> ModelConfig.standard(256, 4, 4, 688, 256, 0)));
        assertEquals("model.rope_theta must be a finite number > 1, got NaN",
                error(() -> new ModelConfig(256, 4, 4, 688, 256, 128, Double.NaN, 1e-6)));
        assertEquals("model.norm_eps must be a finite number > 0, got 0.0",
                error(() -> new ModelConfig(256, 4, 4, 688, 256, 128, 10000, 0)));
        assertEquals("model.norm_eps must be a finite number > 0, got Infinity",
                error(() -> new ModelConfig(256, 4, 4, 688, 256, 128, 10000, Double.POSITIVE_INFINITY)));
        // head size 6 / 2 = 3 is odd: RoPE needs pairs
        assertEquals("model.hidden / model.heads (the head size) must be even for rotary embeddings"
                + " (hidden=6, heads=2)", error(() -> ModelConfig.standard(6, 1, 2, 8, 10, 4)));
    }

    @Test
    void presetsHaveThePaperSizes() {
        assertEquals(ModelConfig.standard(256, 4, 4, 688, 256, 128), ModelConfig.preset("micro"));
        assertEquals(ModelConfig.standard(512, 8, 8, 1376, 32000, 256), ModelConfig.preset("60m"));
        assertEquals(ModelConfig.standard(768, 12, 12, 2048, 32000, 256), ModelConfig.preset("130m"));
        assertEquals(ModelConfig.standard(1024, 24, 16, 2736, 32000, 256), ModelConfig.preset("350m"));
        assertEquals(ModelConfig.standard(2048, 24, 32, 5461, 32000, 256), ModelConfig.preset("1b"));
        assertEquals(ModelConfig.standard(4096, 32, 32, 11008, 32000, 256), ModelConfig.preset("7B"));
        assertEquals(10000.0, ModelConfig.preset("micro").ropeTheta());
        assertEquals(1e-6, ModelConfig.preset("micro").normEps());
        assertEquals("model.preset: unknown name '3b' (known: micro, 60m, 130m, 350m, 1b, 7b)",
                error(() -> ModelConfig.preset("3b")));
    }

    @Test
    void parameterCountIsTheSumOfTheParameterShapes() {
        for (String name : ModelConfig.presetNames()) {
            ModelConfig c = ModelConfig.preset(name);
            long sum = 0;
            for (Map.Entry<String, long[]> e : LlamaParameters.shapes(c).entrySet()) {
                long n = 1;
                for (long s : e.getValue()) {
                    n *= s;
                }
                sum += n;
            }
            assertEquals(sum, c.parameterCount(), name);
        }
        // LLaMA-7B with an untied 32000-token head: the well-known 6.74e9
        assertEquals(6_738_415_616L, ModelConfig.preset("7b").parameterCount());
    }

    @Test
    void flopsPerTokenFollowsTheDocumentedFormula() {
        ModelConfig micro = ModelConfig.preset("micro");
        long matmulParams = micro.parameterCount() - 256L * 256 - (2L * 4 + 1) * 256; // minus embedding, gains
        assertEquals(6.0 * matmulParams + 12.0 * 4 * 256 * 128, micro.flopsPerToken(), 1e-6);
    }

    @Test
    void parameterNamesAreHuggingFaceLlamaNames() {
        ModelConfig c = TinyModels.TINY;
        Map<String, long[]> shapes = LlamaParameters.shapes(c);
        assertEquals(3 + 9 * c.layers(), shapes.size());
        assertEquals("[11, 16]", java.util.Arrays.toString(shapes.get("model.embed_tokens.weight")));
        assertEquals("[16, 16]", java.util.Arrays.toString(shapes.get("model.layers.1.self_attn.k_proj.weight")));
        assertEquals("[24, 16]", java.util.Arrays.toString(shapes.get("model.layers.0.mlp.gate_proj.weight")));
        assertEquals("[16, 24]", java.util.Arrays.toString(shapes.get("model.layers.0.mlp.down_proj.weight")));
        assertEquals("[16]", java.util.Arrays.toString(shapes.get("model.layers.1.post_attention_layernorm.weight")));
        assertEquals("[11, 16]", java.util.Arrays.toString(shapes.get("lm_head.weight")));
        assertEquals("[16]", java.util.Arrays.toString(shapes.get("model.norm.weight")));
    }
}
