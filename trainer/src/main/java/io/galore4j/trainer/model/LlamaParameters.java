package io.galore4j.trainer.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The names and shapes of the model's parameters, in Hugging Face LLaMA naming and in the
 * [out_features, in_features] convention, so that an export maps 1:1 onto
 * {@code LlamaForCausalLM}'s state dict.
 */
public final class LlamaParameters {

    public static final String EMBED_TOKENS = "model.embed_tokens.weight";
    public static final String FINAL_NORM = "model.norm.weight";
    public static final String LM_HEAD = "lm_head.weight";

    private LlamaParameters() {
    }

    public static String inputNorm(int layer) {
        return layer(layer) + "input_layernorm.weight";
    }

    public static String postAttentionNorm(int layer) {
        return layer(layer) + "post_attention_layernorm.weight";
    }

    /** {@code proj} is one of q, k, v, o. */
    public static String attention(int layer, char proj) {
        return layer(layer) + "self_attn." + proj + "_proj.weight";
    }

    /** {@code proj} is one of gate, up, down. */
    public static String mlp(int layer, String proj) {
        return layer(layer) + "mlp." + proj + "_proj.weight";
    }

    private static String layer(int layer) {
        return "model.layers." + layer + ".";
    }

    /**
     * Every parameter with its shape, in forward order: embedding; per block input_layernorm,
     * q, k, v, o, post_attention_layernorm, gate, up, down; final norm; lm_head.
     */
    public static Map<String, long[]> shapes(ModelConfig config) {
        long h = config.hidden();
        long inter = config.intermediate();
        long v = config.vocab();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put(EMBED_TOKENS, new long[] {v, h});
        for (int i = 0; i < config.layers(); i++) {
            shapes.put(inputNorm(i), new long[] {h});
            for (char p : new char[] {'q', 'k', 'v', 'o'}) {
                shapes.put(attention(i, p), new long[] {h, h});
            }
            shapes.put(postAttentionNorm(i), new long[] {h});
            shapes.put(mlp(i, "gate"), new long[] {inter, h});
            shapes.put(mlp(i, "up"), new long[] {inter, h});
            shapes.put(mlp(i, "down"), new long[] {h, inter});
        }
        shapes.put(FINAL_NORM, new long[] {h});
        shapes.put(LM_HEAD, new long[] {v, h});
        return Collections.unmodifiableMap(shapes);
    }

    /**
     * The order in which {@link LlamaModel#forwardBackward} hands gradients to the sink: lm_head,
     * final norm, then for each block from the last to the first down, gate, up,
     * post_attention_layernorm, o, q, k, v, input_layernorm, and the embedding last.
     */
    public static List<String> backwardOrder(ModelConfig config) {
        List<String> order = new ArrayList<>();
        order.add(LM_HEAD);
        order.add(FINAL_NORM);
        for (int i = config.layers() - 1; i >= 0; i--) {
            order.add(mlp(i, "down"));
            order.add(mlp(i, "gate"));
            order.add(mlp(i, "up"));
            order.add(postAttentionNorm(i));
            order.add(attention(i, 'o'));
            order.add(attention(i, 'q'));
            order.add(attention(i, 'k'));
            order.add(attention(i, 'v'));
            order.add(inputNorm(i));
        }
        order.add(EMBED_TOKENS);
        return Collections.unmodifiableList(order);
    }

    /** True for the weights that are vectors (the RMSNorm gains). */
    public static boolean isNorm(String name) {
        return name.endsWith("layernorm.weight") || name.equals(FINAL_NORM);
    }
}
