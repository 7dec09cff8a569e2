package io.galore4j.projection;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one basis refresh of one layer measured (a line of {@code subspace.jsonl}).
 *
 * @param step           the optimizer step of the refresh
 * @param layer          the parameter's name
 * @param rank           r
 * @param cosine         the signed cosine between the previous and the new first singular vector,
 *                       both fp32 as computed (before INT4 encoding; Q-GaLore's convergence signal,
 *                       measured as it does); the new basis's signs follow the previous one
 *                       ({@link SignConvention}), so it is ≥ 0 unless INT4 decoding flipped the
 *                       sign of a near-zero dot product; NaN at the first refresh
 * @param overlap        ‖P_oldᵀ P_new‖²_F / r ∈ [0, 1]: 1 = same subspace, invariant to rotations and
 *                       signs inside it; NaN at the first refresh
 * @param energy         Σ_{i≤r} σ_i² / ‖G‖²_F, the share of the gradient the basis captures
 * @param singularValues the first (up to) 8 singular values of G, decreasing
 * @param gap            the layer's refresh gap from this refresh on (after the policy adapted);
 *                       the policy itself sees the gap that led to this refresh
 * @param basisMillis    wall time of the basis computation (SVD) in milliseconds
 */
public record SubspaceStats(long step, String layer, int rank, double cosine, double overlap, double energy,
        double[] singularValues, long gap, double basisMillis) {

    public SubspaceStats {
        singularValues = singularValues.clone();
    }

    /** Whether an old basis existed, i.e. cosine and overlap are defined. */
    public boolean hasPrevious() {
        return !Double.isNaN(overlap);
    }

    @Override
    public double[] singularValues() {
        return singularValues.clone();
    }

    public SubspaceStats withGap(long newGap) {
        return new SubspaceStats(step, layer, rank, cosine, overlap, energy, singularValues, newGap, basisMillis);
    }

    /** Field name to value, in a fixed order, ready for a JSON writer; NaN becomes null. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", step);
        m.put("layer", layer);
        m.put("rank", rank);
        m.put("cosine", Double.isNaN(cosine) ? null : cosine);
        m.put("overlap", Double.isNaN(overlap) ? null : overlap);
        m.put("energy", energy);
        List<Double> sv = new ArrayList<>();
        for (double s : singularValues) {
            sv.add(s);
        }
        m.put("singular_values", sv);
        m.put("gap", gap);
        m.put("basis_ms", basisMillis);
        return m;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SubspaceStats s && step == s.step && layer.equals(s.layer) && rank == s.rank
                && Double.compare(cosine, s.cosine) == 0 && Double.compare(overlap, s.overlap) == 0
                && Double.compare(energy, s.energy) == 0 && Arrays.equals(singularValues, s.singularValues)
                && gap == s.gap && Double.compare(basisMillis, s.basisMillis) == 0;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(step) * 31 + layer.hashCode();
    }

    @Override
    public String toString() {
        return "SubspaceStats" + toMap();
    }
}
