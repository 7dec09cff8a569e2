package io.galore4j.trainer.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The shape of a LLaMA-style decoder (configuration keys {@code model.*}). Every field is checked
 * at construction; a bad value raises {@link IllegalArgumentException} naming the key.
 *
 * @param hidden       width of the residual stream (d_model)
 * @param layers       number of decoder blocks
 * @param heads        attention heads; must divide {@code hidden}, and the head size
 *                     {@code hidden / heads} must be even (RoPE rotates pairs)
 * @param intermediate width of the SwiGLU MLP
 * @param vocab        vocabulary size
 * @param seqLen       longest sequence (context) the model is trained on
 * @param ropeTheta    RoPE base θ (LLaMA: 10000)
 * @param normEps      RMSNorm ε (LLaMA: 1e-6)
 */
public record ModelConfig(int hidden, int layers, int heads, int intermediate, int vocab, int seqLen,
                          double ropeTheta, double normEps) {

    /** RoPE base of LLaMA. */
    public static final double DEFAULT_ROPE_THETA = 10000.0;
    /** RMSNorm ε of LLaMA. */
    public static final double DEFAULT_NORM_EPS = 1e-6;

    /** The preset file (a classpath resource; trainer/src/main/resources/io/galore4j/trainer/presets/models.yaml). */
    public static final String PRESET_FILE = "/io/galore4j/trainer/presets/models.yaml";
    /** The keys of a preset, in the file's order: the fields a preset sets, as model.* keys name them. */
    public static final List<String> PRESET_KEYS = List.of("hidden", "layers", "heads", "intermediate", "vocab", "seq_len");
    private static final Map<String, ModelConfig> PRESETS = readPresets();

    /** The presets of {@link #PRESET_FILE}, in its order, with LLaMA's RoPE θ and RMSNorm ε. */
    private static Map<String, ModelConfig> readPresets() {
        Map<String, ModelConfig> presets = new LinkedHashMap<>();
        try (InputStream in = ModelConfig.class.getResourceAsStream(PRESET_FILE)) {
            if (in == null) {
                throw new IllegalStateException("the model presets " + PRESET_FILE + " are missing from the classpath");
            }
            Map<?, ?> file = new ObjectMapper(new YAMLFactory()).readValue(in, LinkedHashMap.class);
            file.forEach((name, entry) -> {
                if (!(entry instanceof Map<?, ?> m) || !m.keySet().equals(new java.util.HashSet<>(PRESET_KEYS))
                        || !m.values().stream().allMatch(v -> v instanceof Integer)) {
                    throw new IllegalStateException(PRESET_FILE + ": preset " + name + " must set the integers "
                            + PRESET_KEYS + " (got " + entry + ")");
                }
                int[] v = PRESET_KEYS.stream().mapToInt(k -> (Integer) m.get(k)).toArray();
                presets.put(String.valueOf(name), standard(v[0], v[1], v[2], v[3], v[4], v[5]));
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the model presets " + PRESET_FILE, e);
        }
        return java.util.Collections.unmodifiableMap(presets);
    }

    public ModelConfig {
        positive("model.hidden", hidden);
        positive("model.layers", layers);
        positive("model.heads", heads);
        positive("model.intermediate", intermediate);
        positive("model.vocab", vocab);
        positive("model.seq_len", seqLen);
        if (hidden % heads != 0) {
            throw new IllegalArgumentException("model.heads must divide model.hidden (hidden=" + hidden
                    + ", heads=" + heads + ")");
        }
        if ((hidden / heads) % 2 != 0) {
            throw new IllegalArgumentException("model.hidden / model.heads (the head size) must be even for"
                    + " rotary embeddings (hidden=" + hidden + ", heads=" + heads + ")");
        }
        if (!(ropeTheta > 1.0) || Double.isInfinite(ropeTheta)) {
            throw new IllegalArgumentException("model.rope_theta must be a finite number > 1, got " + ropeTheta);
        }
        if (!(normEps > 0.0) || Double.isInfinite(normEps)) {
            throw new IllegalArgumentException("model.norm_eps must be a finite number > 0, got " + normEps);
        }
    }

    /** A config with LLaMA's RoPE θ and RMSNorm ε. */
    public static ModelConfig standard(int hidden, int layers, int heads, int intermediate, int vocab, int seqLen) {
        return new ModelConfig(hidden, layers, heads, intermediate, vocab, seqLen, DEFAULT_ROPE_THETA,
                DEFAULT_NORM_EPS);
    }

    /** The preset called {@code name}: micro, 60m, 130m, 350m, 1b or 7b. */
    public static ModelConfig preset(String name) {
        ModelConfig config = name == null ? null : PRESETS.get(name.toLowerCase(java.util.Locale.ROOT));
        if (config == null) {
            throw new IllegalArgumentException("model.preset: unknown name '" + name + "' (known: "
                    + String.join(", ", PRESETS.keySet()) + ")");
        }
        return config;
    }

    /** The preset names, smallest first. */
    public static List<String> presetNames() {
        return List.copyOf(PRESETS.keySet());
    }

    /** Size of one attention head, {@code hidden / heads}. */
    public int headDim() {
        return hidden / heads;
    }

    /** Same shape with another context length (e.g. for evaluation or tests). */
    public ModelConfig withSeqLen(int newSeqLen) {
        return new ModelConfig(hidden, layers, heads, intermediate, vocab, newSeqLen,
                ropeTheta, normEps);
    }

    /**
     * Number of trainable parameters: embedding V·H, per block 4H² (q,k,v,o) + 3H·I (gate, up,
     * down) + 2H (two RMSNorm weights), the final norm H, and the untied head V·H.
     */
    public long parameterCount() {
        long h = hidden;
        long perBlock = 4 * h * h + 3 * h * intermediate + 2 * h;
        return 2L * vocab * h + layers * perBlock + h;
    }

    /**
     * Training FLOPs per token (forward + backward), as this model computes them:
     * {@code 6·N_matmul + 12·L·H·T}, where N_matmul = L·(4H² + 3H·I) + V·H are the weights that
     * enter a matrix product (all projections and the output head; the embedding is a lookup and
     * the norm weights are elementwise, so neither is counted), 6 = 2 (multiply-add) × 3 (forward,
     * input gradient, weight gradient), and 12·L·H·T is attention's QKᵀ and PV (2·2·T·H per token
     * and layer forward, ×3 with backward) over the full T×T score matrix that is computed even
     * though the causal mask zeroes half of it (Kaplan et al. 2020 / PaLM appendix B convention),
     * with T = {@code seqLen}.
     */
    public double flopsPerToken() {
        double h = hidden;
        double matmulParams = layers * (4 * h * h + 3 * h * intermediate) + (double) vocab * h;
        return 6 * matmulParams + 12.0 * layers * h * seqLen;
    }

    private static void positive(String key, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(key + " must be > 0, got " + value);
        }
    }
}
