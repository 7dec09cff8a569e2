package io.galore4j.galore;

import java.util.Map;

/**
 * The norm-growth limiter of Fira (Chen et al. 2024, arXiv 2410.01623, §3.3), which APOLLO
 * (Zhu et al. 2024, arXiv 2412.05270) adopts: when a parameter's update S_t grows faster than
 * γ per step, ‖S_t‖ &gt; γ‖S_{t−1}‖, it is rescaled to norm γ‖S_{t−1}‖. The reference for the
 * next step is the norm after limiting. The first update passes unchanged (docs/design.md §3).
 */
final class NormGrowthLimiter {

    /** The papers' γ. */
    static final double DEFAULT_GAMMA = 1.01;

    private final double gamma;
    /** ‖S_{t−1}‖ as applied; NaN before the first update. */
    private double last = Double.NaN;

    NormGrowthLimiter(double gamma) {
        if (!(gamma >= 1) || Double.isInfinite(gamma)) {
            throw new IllegalArgumentException("the norm-growth limit must be finite and >= 1, got " + gamma);
        }
        this.gamma = gamma;
    }

    /**
     * The factor by which to multiply this step's update, whose norm is {@code norm}: γ‖S_{t−1}‖ / ‖S_t‖
     * when that is below 1, else 1; remembers the limited norm for the next step.
     */
    double factor(double norm) {
        double f = 1;
        if (last > 0 && norm > gamma * last) {
            f = gamma * last / norm;
        }
        last = norm * f;
        return f;
    }

    /** The norm of the last update as applied (NaN before the first). */
    double last() {
        return last;
    }

    /** Its state for a checkpoint: the last norm, exact as a double. */
    Map<String, Object> state() {
        return Map.of("last_norm_bits", Double.doubleToRawLongBits(last));
    }

    /** Restores {@link #state()}; IllegalArgumentException when it is missing. */
    void restore(Map<String, ?> state) {
        if (!(state.get("last_norm_bits") instanceof Number bits)) {
            throw new IllegalArgumentException("the norm-growth limiter's last_norm_bits is missing");
        }
        last = Double.longBitsToDouble(bits.longValue());
    }
}
