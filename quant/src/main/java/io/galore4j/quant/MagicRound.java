package io.galore4j.quant;

/**
 * Rounding to the nearest integer (ties to even) without a float-to-int conversion, which JDK
 * 17's C2 does not vectorize: for 0 ≤ t &lt; 2²², the float t + {@link #MAGIC} (= 2²³ + 2²²) has
 * ulp 1, so the addition rounds t, and the bits of the sum minus {@link #BITS} are rint(t).
 * Both the addition and the bit move vectorize.
 */
final class MagicRound {
    static final float MAGIC = 12582912f;
    static final int BITS = Float.floatToRawIntBits(MAGIC);

    private MagicRound() {
    }
}
