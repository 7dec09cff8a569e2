package io.galore4j.quant;

/** How a real value between two codes becomes a code. */
public enum Rounding {
    /** Round to the nearest code (deterministic, biased for values between codes). */
    NEAREST,
    /**
     * Q-GaLore stochastic rounding (docs/design.md §3): with t = x/s, q = floor(t) + 1 with
     * probability frac(t), else floor(t), so E[q] = t and updates smaller than one step still
     * move the value on average.
     */
    STOCHASTIC
}
