package io.galore4j.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.galore4j.galore.OptimSettings;
import io.galore4j.galore.ParamSettings;
import io.galore4j.trainer.model.LlamaParameters;
import io.galore4j.trainer.model.ModelConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** summary.json's weight formats stay a dozen names for a 7B model, grouped by format with counts. */
class WeightFormatsTest {

    private static Map<String, Object> formats(String preset, Map<String, Object> optim) {
        Map<String, long[]> shapes = LlamaParameters.shapes(ModelConfig.preset(preset));
        OptimSettings s = OptimSettings.from(optim);
        Map<String, ParamSettings> settings = new LinkedHashMap<>();
        shapes.forEach((name, shape) -> settings.put(name, s.resolve(name, shape)));
        return WeightFormats.of(settings, shapes);
    }

    @Test
    void qGaloreAt7bIsGroupedByFormatWithLayerIndicesCollapsed() {
        Map<String, Object> f = formats("7b", Map.of("method", "q-galore"));
        assertEquals(List.of("fp32", "int8"), List.copyOf(f.keySet()));
        @SuppressWarnings("unchecked")
        Map<String, Object> int8 = (Map<String, Object>) f.get("int8");
        @SuppressWarnings("unchecked")
        Map<String, Object> fp32 = (Map<String, Object>) f.get("fp32");
        assertEquals(List.of("model.layers.*.mlp.down_proj.weight", "model.layers.*.mlp.gate_proj.weight",
                "model.layers.*.mlp.up_proj.weight", "model.layers.*.self_attn.k_proj.weight",
                "model.layers.*.self_attn.o_proj.weight", "model.layers.*.self_attn.q_proj.weight",
                "model.layers.*.self_attn.v_proj.weight"), int8.get("names"));
        assertEquals(List.of("lm_head.weight", "model.embed_tokens.weight", "model.layers.*.input_layernorm.weight",
                "model.layers.*.post_attention_layernorm.weight", "model.norm.weight"), fp32.get("names"));
        assertEquals(7L * 32, int8.get("parameters"));
        assertEquals(32L * (4 * 4096 * 4096 + 3 * 4096 * 11008), int8.get("elements"));
        assertEquals(3L + 2 * 32, fp32.get("parameters"));
        assertEquals(2L * 32000 * 4096 + 4096 * (2 * 32 + 1), fp32.get("elements"));
    }

    @Test
    void withTheScopeWideningTheEmbeddingAndHeadAreInt8Too() {
        @SuppressWarnings("unchecked")
        Map<String, Object> int8 = (Map<String, Object>) formats("micro", Map.of("method", "q-galore",
                "weights_scope", "all")).get("int8");
        assertEquals(7L * 4 + 2, int8.get("parameters"));
    }
}
