package io.galore4j.quant;

/**
 * bfloat16: the upper 16 bits of a binary32 (sign, the same 8 exponent bits, 7 fraction bits).
 * A storage format only (docs/design.md §5: 16-bit products are slow on CPU); values are computed in
 * fp32 and rounded to bfloat16 when stored.
 */
public final class Bf16 {
    /** Bits of the largest finite bfloat16, (2 − 2⁻⁷)·2¹²⁷ ≈ 3.3895e38. */
    public static final short MAX_FINITE = 0x7F7F;

    private Bf16() {
    }

    /**
     * binary32 → bfloat16 with round-to-nearest-even on the 16 dropped bits (IEEE 754): a finite
     * value beyond the largest bfloat16 plus half its ulp becomes ±infinity, a NaN stays a
     * (quiet) NaN, infinities and signed zeros are kept.
     */
    public static short round(float x) {
        int bits = Float.floatToRawIntBits(x);
        if (Float.isNaN(x)) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        // adding 0x7FFF plus the kept part's lowest bit carries into bit 16 exactly when the
        // dropped half-word is above half, or equal to half with an odd kept part (ties to even)
        int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    /** The value of bfloat16 bits (exact: a bfloat16 is a binary32 with 16 zero low bits). */
    public static float toFloat(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }

    /** Whether the bits are a finite bfloat16 (exponent field not all ones). */
    public static boolean isFinite(short bits) {
        return (bits & 0x7F80) != 0x7F80;
    }

    /**
     * The ulp of a finite bfloat16: the distance from its magnitude to the next larger
     * bfloat16, 2^(E − 127 − 7) for the biased exponent E ≥ 1, and 2⁻¹³³ for zero and
     * subnormals (E = 0, the same spacing as E = 1).
     */
    public static float ulp(short bits) {
        if (!isFinite(bits)) {
            throw new IllegalArgumentException("bfloat16 ulp: not a finite value (bits 0x"
                    + Integer.toHexString(bits & 0xFFFF) + ")");
        }
        int biasedExponent = (bits >>> 7) & 0xFF;
        return Math.scalb(1f, Math.max(biasedExponent, 1) - 127 - 7);
    }
}
