package io.galore4j.galore;

import io.galore4j.projection.BasisMethod;
import io.galore4j.projection.RefreshKind;
import io.galore4j.projection.Side;
import io.galore4j.quant.CodecName;
import io.galore4j.quant.EnumKeys;
import io.galore4j.quant.Moment;
import io.galore4j.quant.Rounding;
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
 * @param scaling        none (GaLore's update) or APOLLO's channel / tensor gradient scaling
 * @param residual       the gradient outside the subspace: dropped (none) or added as Fira does (GaLore)
 */
public record ParamSettings(String layerPattern, boolean galore, UpdateRule rule, double lr, double beta1,
        double beta2, double eps, double weightDecay, double momentum, int rank, double scale, Side side,
        BasisMethod svd, RefreshKind refresh, Map<String, Object> refreshParams, OnRefresh onRefresh, CodecName mCodec,
        CodecName vCodec, WeightStorage weights, Rounding weightRounding, int basisBits, AccumulationDtype accumulation,
        Scaling scaling,
        Residual residual) {

    /** Every value is checked by {@link OptimSettings}, which names the key; here only what holds the record together. */
    public ParamSettings {
        refreshParams = Map.copyOf(refreshParams);
        java.util.Objects.requireNonNull(rule, "rule");
        java.util.Objects.requireNonNull(side, "side");
        java.util.Objects.requireNonNull(svd, "svd");
        java.util.Objects.requireNonNull(refresh, "refresh");
        java.util.Objects.requireNonNull(onRefresh, "on_refresh");
        java.util.Objects.requireNonNull(weightRounding, "weight_rounding");
        java.util.Objects.requireNonNull(accumulation, "accumulation");
        java.util.Objects.requireNonNull(scaling, "scaling");
        java.util.Objects.requireNonNull(residual, "residual");
        if (!mCodec.stores(Moment.FIRST) || !vCodec.stores(Moment.SECOND)) {
            throw new IllegalArgumentException("m_codec " + EnumKeys.key(mCodec) + " / v_codec " + EnumKeys.key(vCodec)
                    + ": not a first / second moment codec");
        }
    }

    /** Whether this projected parameter is updated by APOLLO (a random projection scaling the full gradient). */
    public boolean apollo() {
        return galore && scaling != Scaling.NONE;
    }

    /** Whether this projected parameter adds Fira's residual to GaLore's update. */
    public boolean fira() {
        return galore && residual == Residual.FIRA;
    }

    /** These settings with another weight storage. */
    ParamSettings withWeights(WeightStorage storage) {
        return new ParamSettings(layerPattern, galore, rule, lr, beta1, beta2, eps, weightDecay, momentum, rank, scale,
                side, svd, refresh, refreshParams, onRefresh, mCodec, vCodec, storage, weightRounding, basisBits,
                accumulation, scaling, residual);
    }

    /** These settings for a parameter updated in a projected subspace (or not). */
    ParamSettings withGalore(boolean projected) {
        return new ParamSettings(layerPattern, projected, rule, lr, beta1, beta2, eps, weightDecay, momentum, rank,
                scale, side, svd, refresh, refreshParams, onRefresh, mCodec, vCodec, weights, weightRounding, basisBits,
                accumulation, scaling, residual);
    }

    /** Field name to value in a fixed order (for listings and run directories). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("layer_pattern", layerPattern);
        m.put("galore", galore);
        m.put("rule", galore ? "adamw" : EnumKeys.key(rule));
        m.put("lr", lr);
        m.put("beta1", beta1);
        m.put("beta2", beta2);
        m.put("eps", eps);
        m.put("weight_decay", weightDecay);
        if (rule == UpdateRule.SGD && !galore) {
            m.put("momentum", momentum);
        }
        if (galore) {
            m.put("rank", rank);
            m.put("scale", scale);
            m.put("side", EnumKeys.key(side));
            m.put("svd", EnumKeys.key(svd));
            m.put("refresh", EnumKeys.key(refresh));
            m.put("refresh_params", new java.util.TreeMap<>(refreshParams));
            m.put("on_refresh", EnumKeys.key(onRefresh));
            m.put("basis_bits", basisBits);
            if (scaling != Scaling.NONE) {
                m.put("scaling", EnumKeys.key(scaling));
            }
            if (residual != Residual.NONE) { // listed only when on, so the other methods' records stay as they were
                m.put("residual", EnumKeys.key(residual));
            }
        }
        m.put("m_codec", EnumKeys.key(mCodec));
        m.put("v_codec", EnumKeys.key(vCodec));
        m.put("weights", EnumKeys.key(weights));
        if (weights == WeightStorage.INT8) {
            m.put("weight_rounding", EnumKeys.key(weightRounding));
        }
        m.put("accumulation", EnumKeys.key(accumulation));
        return m;
    }
}
