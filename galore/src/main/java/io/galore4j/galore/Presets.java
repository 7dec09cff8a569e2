package io.galore4j.galore;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The methods as presets over independent options (every option can be overridden on top).
 * Learning rates are single constants here so that tuning changes one line.
 *
 * <table>
 * <tr><th>method</th><th>options</th></tr>
 * <tr><td>adamw</td><td>full rank, fp32 states, fp32 weights, lr {@value #ADAMW_LR}, β (0.9, 0.999), ε 1e-8</td></tr>
 * <tr><td>adamw8bit</td><td>adamw with dynamic8 first and second moment (Dettmers et al. 2022)</td></tr>
 * <tr><td>adamw4bit</td><td>adamw with de4 first moment and linear4nz-rank1 second moment (no zero code, rank-1 scaling) (Li et al. 2023)</td></tr>
 * <tr><td>solo</td><td>adamw with signed2 first and log2 second moment, β1 0.8 (SOLO, Xu et al. 2025:
 *     a smaller β1 bounds β/(1−β) times the 2-bit quantization error; docs/design.md §3)</td></tr>
 * <tr><td>galore</td><td>GaLore (Zhao et al. 2024) on attention/MLP projections: rank {@value #GALORE_RANK},
 *     α 0.25, side std, SVD auto (exact up to 1024 wide, randomized above), fixed gap 200, fp32 basis/states/weights, lr {@value #GALORE_LR}</td></tr>
 * <tr><td>q-galore</td><td>Q-GaLore (Zhang et al. 2024): galore + INT8 weights with stochastic rounding for
 *     the attention and MLP projections (weights_scope: projection; embedding, head and norms stay fp32, as in the
 *     Q-GaLore reference code), INT4 basis, lazy refresh as the reference implementation runs it (gap 200,
 *     window 5, threshold 0.4), dynamic8 states, lr {@value #Q_GALORE_LR}</td></tr>
 * <tr><td>sgd</td><td>full-rank SGD with heavy-ball momentum 0.9, fp32 momentum, lr {@value #SGD_LR}</td></tr>
 * <tr><td>lion</td><td>full-rank Lion (Chen et al. 2023), β (0.9, 0.99), lr {@value #LION_LR}</td></tr>
 * <tr><td>flash-adamw</td><td>FlashOptim (docs/design.md §3): adamw with split weights (bf16 + int8 correction,
 *     every parameter), softsign8 first and sqrt8 second moment, bf16 gradient accumulation, lr {@value #ADAMW_LR}</td></tr>
 * <tr><td>flash-lion</td><td>lion with the same storage (softsign8 momentum), β (0.9, 0.99), lr {@value #LION_LR}</td></tr>
 * <tr><td>flash-sgd</td><td>sgd with the same storage (softsign8 momentum), momentum 0.9, lr {@value #SGD_LR}</td></tr>
 * </table>
 *
 * <p>Rank 64 for GaLore: the papers use rank 128 for the 60M model (hidden 512), i.e. a quarter of
 * the hidden size; the micro model has hidden 256. The GaLore-family lr follows the papers' ~10×
 * larger lr with α = 0.25 (0.01 GaLore, 0.015 Q-GaLore for 60M/130M). The flash methods change
 * only how weights, moments and accumulated gradients are stored, so each keeps the lr and β of
 * the fp32 method it compresses, and the two compare at equal hyperparameters.
 */
final class Presets {
    static final double ADAMW_LR = 1e-3;
    static final double GALORE_LR = 0.01;
    static final double Q_GALORE_LR = 0.015;
    static final double SGD_LR = 0.01;
    static final double LION_LR = 1e-4;
    static final int GALORE_RANK = 64;
    /** The 2-D weights of attention and MLP in Hugging Face LLaMA names. */
    static final String DEFAULT_PROJECTION = ".*(self_attn|mlp)\\..*_proj\\.weight";

    static final Set<String> METHODS = Set.of("adamw", "adamw8bit", "adamw4bit", "solo", "galore", "q-galore",
            "sgd", "lion", "flash-adamw", "flash-lion", "flash-sgd");

    private Presets() {
    }

    /** Every option's value under {@code method}; null if the method is unknown. */
    static Map<String, Object> of(String method) {
        if (!METHODS.contains(method)) {
            return null;
        }
        Map<String, Object> p = base();
        switch (method) {
            case "adamw" -> { }
            case "adamw8bit" -> codecs(p, "dynamic8", "dynamic8");
            case "adamw4bit" -> codecs(p, "de4", "linear4nz-rank1");
            case "solo" -> {
                codecs(p, "signed2", "log2");
                p.put("beta1", 0.8);
            }
            case "galore" -> galore(p, GALORE_LR);
            case "q-galore" -> {
                galore(p, Q_GALORE_LR);
                p.put("weights", "int8");
                p.put("weights_scope", "projection");
                p.put("basis_bits", 4);
                p.put("refresh", "lazy");
                codecs(p, "dynamic8", "dynamic8");
            }
            case "sgd" -> sgd(p);
            case "lion" -> lion(p);
            case "flash-adamw" -> {
                flash(p);
                p.put("v_codec", "sqrt8");
            }
            case "flash-lion" -> {
                lion(p);
                flash(p);
            }
            case "flash-sgd" -> {
                sgd(p);
                flash(p);
            }
            default -> throw new AssertionError(method);
        }
        return p;
    }

    private static Map<String, Object> base() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("rule", "adamw");
        p.put("lr", ADAMW_LR);
        p.put("beta1", 0.9);
        p.put("beta2", 0.999);
        p.put("eps", 1e-8);
        p.put("weight_decay", 0.0);
        p.put("momentum", 0.9);
        p.put("projection", "none");
        p.put("rank", GALORE_RANK);
        p.put("scale", 0.25);
        p.put("side", "std");
        p.put("svd", "auto");
        p.put("svd_oversampling", 16);
        p.put("svd_power_iterations", 2);
        p.put("refresh", "fixed");
        p.put("refresh_gap", 200);
        p.put("on_refresh", "keep");
        p.put("m_codec", "fp32");
        p.put("v_codec", "fp32");
        p.put("weights", "fp32");
        p.put("weight_rounding", "stochastic");
        p.put("basis_bits", 32);
        return p;
    }

    private static void sgd(Map<String, Object> p) {
        p.put("rule", "sgd");
        p.put("lr", SGD_LR);
    }

    private static void lion(Map<String, Object> p) {
        p.put("rule", "lion");
        p.put("lr", LION_LR);
        p.put("beta2", 0.99);
    }

    /** FlashOptim storage: split weights, softsign8 first moment, bf16 accumulated gradients. */
    private static void flash(Map<String, Object> p) {
        p.put("weights", "split");
        p.put("m_codec", "softsign8");
        p.put("accumulation", "bf16");
    }

    private static void codecs(Map<String, Object> p, String m, String v) {
        p.put("m_codec", m);
        p.put("v_codec", v);
    }

    private static void galore(Map<String, Object> p, double lr) {
        p.put("projection", DEFAULT_PROJECTION);
        p.put("lr", lr);
    }
}
