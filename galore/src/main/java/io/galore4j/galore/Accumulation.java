package io.galore4j.galore;

import io.galore4j.quant.Bf16;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * The summed micro-batch gradients of one parameter (full-shaped, or R-shaped for GaLore) within
 * one step, stored as {@code optim.accumulation} says: {@code fp32}, or {@code bf16} (FlashOptim's
 * 16-bit gradients, 2 bytes per element), where every add rounds the running sum to the nearest
 * bfloat16 (ties to even), A ← bf16(A + G). Allocated at a parameter's first accumulated
 * micro-batch and kept for the rest of the run.
 */
final class Accumulation {
    private final float[] fp32;
    private final short[] bf16;

    Accumulation(AccumulationDtype dtype, int n) {
        this.fp32 = dtype == AccumulationDtype.FP32 ? new float[n] : null;
        this.bf16 = dtype == AccumulationDtype.BF16 ? new short[n] : null;
    }

    /**
     * A += G for the n elements of {@code g} from absolute index {@code gOff}, into {@code acc}, or
     * into a new accumulation of {@code dtype} when {@code acc} is null; returns the one added to.
     * The new sums are computed and checked before any is stored: if one is not finite (a NaN or
     * infinite G, or a sum beyond the format's range), IllegalArgumentException starting with
     * {@code what} and naming the element, and nothing is changed (nor allocated).
     */
    static Accumulation add(Accumulation acc, AccumulationDtype dtype, String what, FloatBuffer g, int gOff, int n) {
        Accumulation a = acc != null ? acc : new Accumulation(dtype, n);
        float[] c = new float[Math.min(Chunks.SIZE, n)];
        for (int s = 0; s < n; s += c.length) {
            int len = Math.min(c.length, n - s);
            a.sums(g, gOff, s, len, c);
            if (!(Chunks.maxAbs(c, len) <= Float.MAX_VALUE)) {
                int i = Chunks.firstNonFinite(c, len);
                throw new IllegalArgumentException(what + ": the accumulated gradient would not be finite at element "
                        + (s + i) + " (this micro-batch's value " + g.get(gOff + s + i)
                        + "); the micro-batch was rejected and nothing was changed");
            }
        }
        for (int s = 0; s < n; s += c.length) {
            int len = Math.min(c.length, n - s);
            a.sums(g, gOff, s, len, c);
            if (a.fp32 != null) {
                System.arraycopy(c, 0, a.fp32, s, len);
            } else {
                for (int i = 0; i < len; i++) {
                    a.bf16[s + i] = Bf16.round(c[i]); // exact: c[i] is a bfloat16 value
                }
            }
        }
        return a;
    }

    /** The sums A + G of elements [s, s + len) as they will be stored (bf16: rounded), into {@code c}. */
    private void sums(FloatBuffer g, int gOff, int s, int len, float[] c) {
        g.get(gOff + s, c, 0, len);
        if (fp32 != null) {
            for (int i = 0; i < len; i++) {
                c[i] = fp32[s + i] + c[i];
            }
        } else {
            for (int i = 0; i < len; i++) {
                c[i] = Bf16.toFloat(Bf16.round(Bf16.toFloat(bf16[s + i]) + c[i]));
            }
        }
    }

    /** Elements [start, start + len) as fp32 into {@code dst[0 .. len)}. */
    void read(int start, int len, float[] dst) {
        if (fp32 != null) {
            System.arraycopy(fp32, start, dst, 0, len);
        } else {
            for (int i = 0; i < len; i++) {
                dst[i] = Bf16.toFloat(bf16[start + i]);
            }
        }
    }

    /** A ← 0 (after the update that consumed it, or when a step is abandoned). */
    void clear() {
        if (fp32 != null) {
            Arrays.fill(fp32, 0f);
        } else {
            Arrays.fill(bf16, (short) 0);
        }
    }

    /** Bytes of the stored sums: the array this instance holds. */
    long bytes() {
        return fp32 != null ? 4L * fp32.length : 2L * bf16.length;
    }

    /** Bytes per element of {@code dtype} (for estimates without allocating). */
    static long bytesPerElement(AccumulationDtype dtype) {
        return dtype == AccumulationDtype.BF16 ? 2 : 4;
    }
}
