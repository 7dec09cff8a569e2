package io.galore4j.quant;

/**
 * Float minima and maxima as integer reductions. JDK 17's C2 runs a min/max reduction over ints
 * several times faster than one over floats with {@code Math.min/max} (docs/benchmarks.md, state
 * codecs), so the encoders scan a group's float bits as
 * ints: {@link #of(int)} maps the bits of a float to an int that orders as the float does (−0 just
 * below +0; a NaN beyond the infinity of its sign), and is its own inverse.
 */
final class OrderedBits {
    /** The ordered bits of +∞: a maximum at or above it is +∞ or a NaN. */
    static final int POS_INF = of(Float.floatToRawIntBits(Float.POSITIVE_INFINITY));
    /** The ordered bits of −∞: a minimum at or below it is −∞ or a NaN. */
    static final int NEG_INF = of(Float.floatToRawIntBits(Float.NEGATIVE_INFINITY));
    /** The ordered bits of −0.0: a minimum below it is a negative number (or a negative NaN). */
    static final int NEG_ZERO = of(Float.floatToRawIntBits(-0.0f));
    /** |x| of finite x as raw bits is at most this; at or above it, x is infinite or a NaN. */
    static final int ABS_INF = Float.floatToRawIntBits(Float.POSITIVE_INFINITY);

    private OrderedBits() {
    }

    /** Flips the magnitude bits of a negative float's bits; the same map converts back. */
    static int of(int bits) {
        return bits ^ ((bits >> 31) & 0x7FFFFFFF);
    }
}
