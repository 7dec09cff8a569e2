package io.galore4j.galore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.galore4j.quant.EnumKeys;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Bad settings are rejected naming the key (and parameter or layer pattern); overrides apply first-match-wins. */
class OptimSettingsTest {
    private static final long[] Q = {256, 256};
    private static final String QNAME = "model.layers.0.self_attn.q_proj.weight";

    private static String error(Map<String, Object> section) {
        return assertThrows(IllegalArgumentException.class, () -> OptimSettings.from(section)).getMessage();
    }

    @Test
    void unknownKeyMethodCodecPolicyAreNamed() {
        assertEquals("unknown key optim.xyz", error(Map.of("xyz", 1)));
        assertTrue(error(Map.of("method", "adamx")).startsWith("optim.method must be one of"), error(Map.of("method", "adamx")));
        assertTrue(error(Map.of("m_codec", "dynamic9")).contains("optim.m_codec"));
        assertTrue(error(Map.of("v_codec", "signed2")).contains("optim.v_codec"), "signed2 is a first-moment codec");
        assertTrue(error(Map.of("refresh", "sometimes")).contains("optim.refresh"));
        assertTrue(error(Map.of("refresh", "fixed", "lazy_window", 3)).contains("optim.lazy_window applies to refresh lazy"));
        // both lazy rules are accepted; only the project's variant has a bound
        assertTrue(error(Map.of("refresh", "lazy", "max_gap", 800)).contains("not to refresh lazy"),
                error(Map.of("refresh", "lazy", "max_gap", 800)));
        ParamSettings reset = OptimSettings.from(Map.of("refresh", "lazy-reset", "max_gap", 800, "lazy_window", 3))
                .resolve("layers.0.mlp.up_proj.weight", new long[] {128, 64});
        assertEquals("lazy-reset", EnumKeys.key(reset.refresh()));
        assertEquals(Map.of("gap", 200L, "window", 3L, "maxGap", 800L), reset.refreshParams());
        // the policy's own bounds are checked when the settings are read, not when a layer first refreshes
        String gaps = error(Map.of("refresh", "adaptive", "refresh_gap", 10, "min_gap", 20));
        assertTrue(gaps.startsWith("optim.refresh") && gaps.contains("minGap"), gaps);
        OptimSettings.from(Map.of("refresh", "adaptive", "refresh_gap", 10)); // defaults bracket any starting gap
        assertEquals("optim.rank must be ≥ 1 (got 0)", error(Map.of("rank", 0)));
        assertEquals("optim.beta1 must be < 1 (got 1.0)", error(Map.of("beta1", 1.0)));
        assertTrue(error(Map.of("lr", "fast")).startsWith("optim.lr must be a number"));
        assertTrue(error(Map.of("side", "up")).contains("optim.side"));
        assertEquals("optim.weights must be one of [fp32, int8, split] (got bf16)", error(Map.of("weights", "bf16")));
        assertEquals("optim.accumulation must be one of [bf16, fp32] (got fp16)", error(Map.of("accumulation", "fp16")));
        assertTrue(error(Map.of("layers", List.of(Map.of("match", ".*", "accumulation", "bf16"))))
                .contains("unknown key accumulation (a global option, not per layer)"));
    }

    @Test
    void flashPresetsSplitEveryWeightAndStoreStatesAndAccumulationIn8And16Bits() {
        for (String method : List.of("flash-adamw", "flash-lion", "flash-sgd")) {
            OptimSettings s = OptimSettings.preset(method);
            for (long[] shape : new long[][] {Q, {256}}) {
                ParamSettings p = s.resolve(QNAME, shape);
                assertEquals("split", EnumKeys.key(p.weights()), method + ": 1-D and 2-D weights are split");
                assertEquals("softsign8", EnumKeys.key(p.mCodec()), method);
                assertEquals("bf16", EnumKeys.key(p.accumulation()), method);
                assertFalse(p.galore(), method + " is full rank");
            }
        }
        assertEquals("sqrt8", EnumKeys.key(OptimSettings.preset("flash-adamw").resolve(QNAME, Q).vCodec()));
        assertEquals("adamw", EnumKeys.key(OptimSettings.preset("flash-adamw").resolve(QNAME, Q).rule()));
        assertEquals("lion", EnumKeys.key(OptimSettings.preset("flash-lion").resolve(QNAME, Q).rule()));
        assertEquals("sgd", EnumKeys.key(OptimSettings.preset("flash-sgd").resolve(QNAME, Q).rule()));
        assertEquals(OptimSettings.preset("adamw").lr(), OptimSettings.preset("flash-adamw").lr());
        assertEquals(OptimSettings.preset("lion").lr(), OptimSettings.preset("flash-lion").lr());
        assertEquals(OptimSettings.preset("sgd").lr(), OptimSettings.preset("flash-sgd").lr());
        // the other presets leave accumulation out (fp32), so their settings are those written before it existed
        assertFalse(OptimSettings.preset("adamw").toMap().containsKey("accumulation"));
        assertEquals("fp32", EnumKeys.key(OptimSettings.preset("adamw").resolve(QNAME, Q).accumulation()));
        assertEquals("split", EnumKeys.key(OptimSettings.from(Map.of("method", "adamw", "weights", "split")).resolve(QNAME, Q).weights()));
    }

    @Test
    void rankLargerThanTheWeightNamesTheParameter() {
        OptimSettings s = OptimSettings.from(Map.of("method", "galore", "rank", 512));
        String msg = assertThrows(IllegalArgumentException.class, () -> s.resolve(QNAME, Q)).getMessage();
        assertEquals("optim.rank 512 exceeds min(m, n) = 256 of " + QNAME, msg);
        // a layer override's rank error names the pattern
        OptimSettings l = OptimSettings.from(Map.of("method", "galore",
                "layers", List.of(Map.of("match", ".*q_proj.*", "rank", 300))));
        msg = assertThrows(IllegalArgumentException.class, () -> l.resolve(QNAME, Q)).getMessage();
        assertEquals("optim.layers[0] (match '.*q_proj.*').rank 300 exceeds min(m, n) = 256 of " + QNAME, msg);
    }

    @Test
    void layerOverrideErrorsNameThePatternAndField() {
        String msg = error(Map.of("layers", List.of(Map.of("match", ".*mlp.*", "v_codec", "nope"))));
        assertTrue(msg.startsWith("optim.layers[0] (match '.*mlp.*').v_codec must be one of"), msg);
        msg = error(Map.of("layers", List.of(Map.of("match", ".*", "lr", 0.1))));
        assertTrue(msg.contains("unknown key lr (a global option, not per layer)"), msg);
        msg = error(Map.of("layers", List.of(Map.of("rank", 4))));
        assertTrue(msg.contains("optim.layers[0] has no match"), msg);
        msg = error(Map.of("layers", List.of(Map.of("match", ".*", "full_rank", "maybe"))));
        assertTrue(msg.contains("full_rank must be true or false"), msg);
    }

    @Test
    void firstMatchWinsAndEffectiveSettingsShowOverrides() {
        Map<String, Object> section = new HashMap<>();
        section.put("method", "galore");
        section.put("rank", 32);
        section.put("layers", List.of(
                Map.of("match", ".*layers\\.0\\..*", "rank", 8, "on_refresh", "rotate"),
                Map.of("match", ".*q_proj.*", "rank", 16, "refresh", "lazy", "lazy_window", 3),
                Map.of("match", ".*v_proj.*", "full_rank", true)));
        OptimSettings s = OptimSettings.from(section);
        ParamSettings q0 = s.resolve(QNAME, Q);
        assertEquals(8, q0.rank(), "layers[0] matches first");
        assertEquals("rotate", EnumKeys.key(q0.onRefresh()));
        assertEquals("fixed", EnumKeys.key(q0.refresh()));
        ParamSettings q1 = s.resolve("model.layers.1.self_attn.q_proj.weight", Q);
        assertEquals(16, q1.rank());
        assertEquals("lazy", EnumKeys.key(q1.refresh()));
        assertEquals(3L, q1.refreshParams().get("window"));
        ParamSettings k1 = s.resolve("model.layers.1.self_attn.k_proj.weight", Q);
        assertEquals(32, k1.rank(), "no layer entry: the global rank");
        assertTrue(k1.galore());
        assertFalse(s.resolve("model.layers.1.self_attn.v_proj.weight", Q).galore(), "full_rank: true");
        assertFalse(s.resolve("model.embed_tokens.weight", new long[] {256, 64}).galore(), "not matched by projection");
        assertFalse(s.resolve("model.norm.weight", new long[] {64}).galore());
        try (LayerwiseOptimizer opt = LayerwiseOptimizer.create(s, 1)) {
            opt.add(QNAME, org.nd4j.linalg.factory.Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, Q));
            assertEquals(8, opt.effectiveSettings().get(QNAME).rank());
            assertEquals(".*layers\\.0\\..*", opt.effectiveSettings().get(QNAME).layerPattern());
        }
    }

    /** The seven projection kinds of a LLaMA block, in Hugging Face names. */
    private static final List<String> PROJECTIONS = List.of("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
            "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj");
    private static final long[] EMBEDDING = {256, 64};

    private static void assertWeights(OptimSettings s, String projections, String embeddingAndHead) {
        for (String kind : PROJECTIONS) {
            assertEquals(projections, EnumKeys.key(s.resolve("model.layers.3." + kind + ".weight", Q).weights()), kind);
        }
        assertEquals(embeddingAndHead, EnumKeys.key(s.resolve("model.embed_tokens.weight", EMBEDDING).weights()), "embedding");
        assertEquals(embeddingAndHead, EnumKeys.key(s.resolve("lm_head.weight", EMBEDDING).weights()), "head");
        assertEquals("fp32", EnumKeys.key(s.resolve("model.layers.3.input_layernorm.weight", new long[] {64}).weights()), "norm");
        assertEquals("fp32", EnumKeys.key(s.resolve("model.norm.weight", new long[] {64}).weights()), "final norm");
    }

    @Test
    void qGaloreKeepsInt8ForTheSevenProjectionsAndTheEmbeddingAndHeadInFp32() {
        assertWeights(OptimSettings.preset("q-galore"), "int8", "fp32");
        // INT8 embedding and head: one key, or one layer entry
        assertWeights(OptimSettings.from(Map.of("method", "q-galore", "weights_scope", "all")), "int8", "int8");
        assertWeights(OptimSettings.from(Map.of("method", "q-galore", "layers", List.of(Map.of("match",
                "model\\.embed_tokens\\.weight|lm_head\\.weight", "weights", "int8")))), "int8", "int8");
        // a projection made full rank keeps its INT8 storage; without projections nothing is INT8
        OptimSettings fullRank = OptimSettings.from(Map.of("method", "q-galore", "layers",
                List.of(Map.of("match", ".*down_proj.*", "full_rank", true))));
        assertFalse(fullRank.resolve("model.layers.3.mlp.down_proj.weight", Q).galore());
        assertWeights(fullRank, "int8", "fp32");
        assertWeights(OptimSettings.from(Map.of("method", "q-galore", "projection", "none")), "fp32", "fp32");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OptimSettings.from(Map.of("method", "q-galore", "weights_scope", "embeddings")));
        assertEquals("optim.weights_scope must be one of [all, projection] (got embeddings)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> OptimSettings.from(Map.of("method", "q-galore",
                "layers", List.of(Map.of("match", ".*", "weights_scope", "all")))));
        assertTrue(e.getMessage().contains("unknown key weights_scope (a global option, not per layer)"), e.getMessage());
    }

    @Test
    void presetsAndKeys() {
        assertEquals(0.8, OptimSettings.preset("solo").resolve("x", new long[] {8}).beta1());
        ParamSettings q = OptimSettings.preset("q-galore").resolve(QNAME, Q);
        assertEquals("int8", EnumKeys.key(q.weights()));
        assertEquals(4, q.basisBits());
        assertEquals("lazy", EnumKeys.key(q.refresh()));
        assertEquals("dynamic8", EnumKeys.key(q.vCodec()));
        assertEquals("fp32", EnumKeys.key(OptimSettings.preset("q-galore").resolve("model.norm.weight", new long[] {256}).weights()),
                "1-D weights stay fp32");
        assertEquals("int8", EnumKeys.key(OptimSettings.from(Map.of("method", "adamw8bit", "weights", "int8"))
                .resolve("lm_head.weight", new long[] {256, 64}).weights()), "weights applies to every 2-D parameter");
        assertTrue(OptimSettings.keys().containsAll(List.of("method", "lr", "rank", "scale", "side", "svd", "refresh",
                "refresh_gap", "on_refresh", "m_codec", "v_codec", "weights", "basis_bits", "projection", "layers")));
        assertEquals("q-galore", OptimSettings.from(Map.of()).method(), "default method");
        // null means "the preset's"
        Map<String, Object> withNull = new HashMap<>();
        withNull.put("lr", null);
        assertEquals(OptimSettings.preset("q-galore").lr(), OptimSettings.from(withNull).lr());
        assertEquals(0.015, OptimSettings.from(withNull).lr());
    }
}
