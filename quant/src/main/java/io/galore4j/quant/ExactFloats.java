package io.galore4j.quant;

/**
 * A 64-bit pattern as four 16-bit integers stored in floats, each exact in fp32: an array of
 * them passes unchanged through a float sum to which the others add zeros (a broadcast over a
 * float all-reduce, docs/design.md §3.9), and so does a double's or a long's bits.
 */
public final class ExactFloats {

    /** Floats that hold one 64-bit pattern. */
    public static final int PER_LONG = 4;

    private ExactFloats() {
    }

    /** Writes {@code bits} into {@code out[at]} … {@code out[at + 3]}, low 16 bits first. */
    public static void putLong(float[] out, int at, long bits) {
        for (int k = 0; k < PER_LONG; k++) {
            out[at + k] = (float) ((bits >>> (16 * k)) & 0xFFFF);
        }
    }

    /** The pattern {@link #putLong} wrote at {@code at}. */
    public static long getLong(float[] in, int at) {
        long bits = 0;
        for (int k = 0; k < PER_LONG; k++) {
            bits |= ((long) in[at + k] & 0xFFFF) << (16 * k);
        }
        return bits;
    }
}
