package io.galore4j.quant;

/**
 * FlashOptim weight splitting (docs/design.md §3): a finite fp32 value θ kept as a bfloat16 high
 * part θ' and an int8 correction ρ of the error e = θ − θ', 3 bytes instead of 4:
 * <pre>
 *   θ' = bf16(θ)                                 round to nearest even, capped at ±the largest finite bfloat16
 *   ρ  = round(clip(e / (u/2), −1, 1) · 127)     u = the bfloat16 ulp of θ' ({@link Bf16#ulp})
 *   θ̂  = θ' + ρ/127 · u/2
 * </pre>
 * Where θ' is the nearest bfloat16 (every |θ| up to the largest bfloat16 plus half its ulp,
 * ≈ 3.3961e38), |e| ≤ u/2, the clip changes nothing, and |θ − θ̂| ≤ (u/2)/254: half of one
 * correction step, ties rounded to even. θ̂ is then rounded once to fp32 (computed in double),
 * which adds at most half an fp32 ulp of θ̂ (2⁻¹⁶ · u/2 for a normal θ). Beyond ≈ 3.3961e38, θ'
 * stays at the largest finite bfloat16 (rounding would give infinity) and |θ − θ̂| &lt; u/2.
 *
 * <p>e and e/(u/2) are exact in fp32 (θ and θ' share their leading bits; u/2 is a power of
 * two), so ρ is the correctly rounded value. A bfloat16 value splits into itself and ρ = 0.
 *
 * <p>NaN policy: {@link #split} throws {@link IllegalArgumentException} for a NaN or infinite
 * value, naming it and its element index; elements before it are already written.
 */
public final class SplitFloat {
    /** ρ's range is [−{@value #STEPS}, {@value #STEPS}]: the correction steps per half ulp. */
    public static final int STEPS = 127;
    /** Bytes per element: the bfloat16 high part and the int8 correction. */
    public static final int BYTES = Short.BYTES + Byte.BYTES;

    private SplitFloat() {
    }

    /** θ' = bf16(θ), round to nearest even, capped at ±{@link Bf16#MAX_FINITE} (θ finite). */
    public static short high(float theta) {
        short h = Bf16.round(theta);
        if (!Bf16.isFinite(h)) { // finite θ beyond the largest bfloat16 + u/2: truncate instead
            h = (short) (Float.floatToRawIntBits(theta) >>> 16);
        }
        return h;
    }

    /** ρ = round(clip((θ − θ') / (u/2), −1, 1) · 127), ties to even. */
    public static byte correction(float theta, short high) {
        float e = theta - Bf16.toFloat(high);               // exact
        float q = e / halfUlp(high);                          // exact: a power-of-two divisor
        q = Math.max(-1f, Math.min(1f, q));
        return (byte) Math.rint(q * STEPS);                   // q·127 is exact in fp32 too
    }

    /** θ̂ = θ' + ρ/127 · u/2, rounded once to fp32. */
    public static float join(short high, byte correction) {
        float base = Bf16.toFloat(high);
        if (correction == 0) {
            return base; // keeps −0
        }
        return (float) (base + correction * (double) halfUlp(high) / STEPS);
    }

    /** u/2, half the bfloat16 ulp of θ' (the correction's full-scale value). */
    public static float halfUlp(short high) {
        return Bf16.ulp(high) * 0.5f;
    }

    /**
     * Splits {@code src[p .. p + n)} into {@code high[at .. at + n)} and
     * {@code correction[at .. at + n)}.
     *
     * @throws IllegalArgumentException for a NaN or infinite value, naming it and its index
     *                                  {@code at + i}
     */
    public static void split(float[] src, int p, short[] high, byte[] correction, int at, int n) {
        for (int i = 0; i < n; i++) {
            float theta = src[p + i];
            if (!Float.isFinite(theta)) {
                throw new IllegalArgumentException("split to bf16 + int8: non-finite value " + theta
                        + " at index " + (at + i));
            }
            short h = high(theta);
            high[at + i] = h;
            correction[at + i] = correction(theta, h);
        }
    }

    /** Joins {@code high[at .. at + n)} and {@code correction[at .. at + n)} into {@code dst[d .. d + n)}. */
    public static void join(short[] high, byte[] correction, int at, int n, float[] dst, int d) {
        for (int i = 0; i < n; i++) {
            dst[d + i] = join(high[at + i], correction[at + i]);
        }
    }
}
