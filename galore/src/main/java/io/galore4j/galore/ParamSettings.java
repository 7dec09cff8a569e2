package io.galore4j.galore;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The effective optimizer settings of one parameter, after the method preset, the global
 * {@code optim.*} keys and the first matching {@code optim.layers} entry were applied.
 *
 * @param layerPattern   the {@code match} regex of the layer entry that applied, or null
 * @param galore         whether the parameter is updated in a projected subspace (GaLore)
 * @param rule           full-rank update rule: adamw, sgd or lion (GaLore params always use Adam)
 * @param lr             the configured peak learning rate η (the trainer's schedule scales it)
 * @param beta1          β1 (Adam, Lion's interpolation)
 * @param beta2          β2 (Adam; Lion's momentum decay)
 * @param eps            ε of Adam's denominator √V̂ + ε
 * @param weightDecay    λ of the decoupled weight decay W ← W − η(ΔW + λW)
 * @param momentum       μ of SGD's heavy-ball momentum
 * @param rank           r (GaLore)
 * @param scale          α of the back-projection (GaLore)
 * @param side           std, reverse, left or right (GaLore)
 * @param svd            exact or randomized basis computation
 * @param refresh        fixed, lazy, lazy-reset or adaptive refresh policy
 * @param refreshParams  the policy's parameters in the projection module's names (gap, window, …)
 * @param onRefresh      keep or rotate the moments at a basis refresh
 * @param mCodec         state codec of the first moment (fp32, dynamic8, de4, signed2, …)
 * @param vCodec         state codec of the second moment (fp32, dynamic8, linear4nz, log2, …)
 * @param weights        weight storage: fp32, int8 (groups of 256) or split (bf16 + int8 correction)
 * @param weightRounding how an INT8 weight is requantized after an update: stochastic (Q-GaLore) or nearest
 * @param basisBits      32 (fp32 basis) or 4 (INT4 basis)
 * @param accumulation   storage of accumulated micro-batch gradients: fp32 or bf16
 */
public record ParamSettings(String layerPattern, boolean galore, String rule, double lr, double beta1,
        double beta2, double eps, double weightDecay, double momentum, int rank, double scale, String side,
        String svd, String refresh, Map<String, Object> refreshParams, String onRefresh, String mCodec,
        String vCodec, String weights, String weightRounding, int basisBits, String accumulation) {

    public ParamSettings {
        refreshParams = Map.copyOf(refreshParams);
    }

    /** These settings with another weight storage. */
    ParamSettings withWeights(String storage) {
        return new ParamSettings(layerPattern, galore, rule, lr, beta1, beta2, eps, weightDecay, momentum, rank, scale,
                side, svd, refresh, refreshParams, onRefresh, mCodec, vCodec, storage, weightRounding, basisBits,
                accumulation);
    }

    /** Field name to value in a fixed order (for listings and run directories). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("layer_pattern", layerPattern);
        m.put("galore", galore);
        m.put("rule", galore ? "adamw" : rule);
        m.put("lr", lr);
        m.put("beta1", beta1);
        m.put("beta2", beta2);
        m.put("eps", eps);
        m.put("weight_decay", weightDecay);
        if (rule.equals("sgd") && !galore) {
            m.put("momentum", momentum);
        }
        if (galore) {
            m.put("rank", rank);
            m.put("scale", scale);
            m.put("side", side);
            m.put("svd", svd);
            m.put("refresh", refresh);
            m.put("refresh_params", new java.util.TreeMap<>(refreshParams));
            m.put("on_refresh", onRefresh);
            m.put("basis_bits", basisBits);
        }
        m.put("m_codec", mCodec);
        m.put("v_codec", vCodec);
        m.put("weights", weights);
        if (weights.equals("int8")) {
            m.put("weight_rounding", weightRounding);
        }
        m.put("accumulation", accumulation);
        return m;
    }
}
