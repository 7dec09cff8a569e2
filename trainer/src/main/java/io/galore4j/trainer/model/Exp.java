package io.galore4j.trainer.model;

import io.galore4j.quant.Staging;

/**
 * Bulk exponential for the model's kernels (softmax, cross-entropy, SiLU):
 * x[i] ← exp(a·x[i] + b) over a run of a {@code double[]}. {@link Math#exp} is a scalar call that
 * keeps its loop from vectorizing; here the work is split so that almost all of it does.
 *
 * <p>With v = a·x + b clamped to [−708, 709], k = rint(v·log₂e) and r = v − k·ln 2 (|r| ≤ ln 2 / 2,
 * ln 2 split in two parts so r is exact to double rounding), exp(v) = 2^k · p(r), p the Taylor
 * polynomial of degree 12, whose truncation error is below 4e-16 relative on that interval.
 * Pass one computes p(r) and k (as the low bits of v·log₂e + 1.5·2⁵² — rounding to an integer
 * by the addition) in a loop of multiplies and adds that C2 vectorizes; pass two makes 2^k by
 * moving k into the exponent bits, a scalar bit move (JDK 17 does not vectorize those); pass three
 * multiplies. Relative error ≤ 4e-15 against {@code Math.exp} ({@code ExpTest}). The clamp makes
 * exp(v) for v &lt; −708 equal to exp(−708) ≈ 3.3e-308 instead of a subnormal or 0, an absolute
 * error the callers (which add the values to sums of order ≥ 1 or to 1) cannot see, and exp(v)
 * for v &gt; 709 about 8.2e307 instead of ∞; NaN stays NaN.
 */
final class Exp {

    private static final double LOG2E = 1.4426950408889634;
    /** ln 2 = LN2_HI + LN2_LO; LN2_HI has 33 significant bits, so k·LN2_HI is exact for |k| ≤ 1100. */
    private static final double LN2_HI = 0x1.62e42feep-1;
    private static final double LN2_LO = 0x1.a39ef35793c76p-33;
    /** 1.5·2⁵²: adding it rounds a value below 2⁵¹ in magnitude to an integer in the low bits. */
    private static final double SHIFT = 0x1.8p52;
    private static final double LOW = -708.0;
    private static final double HIGH = 709.0;
    /** Elements per pass: the block and the powers of two stay in L1. */
    private static final int BLOCK = 2048;
    /** A block's values and powers of two ({@link Staging}). */
    private static final Staging.Slot<double[]> BLOCK_T = Staging.doubles();
    private static final Staging.Slot<double[]> BLOCK_POW2 = Staging.doubles();

    private Exp() {
    }

    /** x[off .. off + len) ← exp(a·x + b), in place. */
    static void affine(double[] x, int off, int len, double a, double b) {
        affine(x, off, x, off, len, a, b);
    }

    /** dst[dstOff .. dstOff + len) ← exp(a·src[srcOff ..] + b); the two runs may be the same. */
    static void affine(double[] src, int srcOff, double[] dst, int dstOff, int len, double a, double b) {
        double[] t = BLOCK_T.get(BLOCK);
        double[] pow2 = BLOCK_POW2.get(BLOCK);
        for (int done = 0; done < len; done += BLOCK) {
            int n = Math.min(BLOCK, len - done);
            // the passes index t and pow2 from 0: C2 does not vectorize a loop whose arrays are
            // indexed at different variable offsets (x[off + i] next to pow2[i])
            System.arraycopy(src, srcOff + done, t, 0, n);
            block(t, n, a, b, pow2);
            System.arraycopy(t, 0, dst, dstOff + done, n);
        }
    }

    private static void block(double[] t, int n, double a, double b, double[] pow2) {
        for (int i = 0; i < n; i++) {
            double v = Math.max(LOW, Math.min(HIGH, Math.fma(a, t[i], b)));
            double shifted = v * LOG2E + SHIFT;
            double k = shifted - SHIFT;
            double r = Math.fma(-k, LN2_LO, Math.fma(-k, LN2_HI, v));
            double p = 1.0 / 479001600;
            p = Math.fma(p, r, 1.0 / 39916800);
            p = Math.fma(p, r, 1.0 / 3628800);
            p = Math.fma(p, r, 1.0 / 362880);
            p = Math.fma(p, r, 1.0 / 40320);
            p = Math.fma(p, r, 1.0 / 5040);
            p = Math.fma(p, r, 1.0 / 720);
            p = Math.fma(p, r, 1.0 / 120);
            p = Math.fma(p, r, 1.0 / 24);
            p = Math.fma(p, r, 1.0 / 6);
            p = Math.fma(p, r, 0.5);
            p = Math.fma(p, r, 1.0);
            t[i] = Math.fma(p, r, 1.0);
            pow2[i] = shifted;
        }
        for (int i = 0; i < n; i++) {
            // the low 52 bits of `shifted` hold 2⁵¹ + k; adding 1023 − 2⁵¹ and shifting gives 2^k
            long bits = Double.doubleToRawLongBits(pow2[i]);
            pow2[i] = Double.longBitsToDouble((bits + (1023 - (1L << 51))) << 52);
        }
        for (int i = 0; i < n; i++) {
            t[i] *= pow2[i];
        }
    }
}
