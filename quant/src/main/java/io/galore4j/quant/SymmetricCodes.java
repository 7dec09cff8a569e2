package io.galore4j.quant;

import java.nio.FloatBuffer;

/**
 * Group-wise symmetric integer codes (INT8 or INT4) whose scales live outside the codes, for a
 * model that trains its scales and freezes its codes (QZO, docs/design.md §3: "weights are codes times
 * trainable scales Δ"). Element i of group g = ⌊i / groupSize⌋ stands for x̂_i = Δ_g · q_i with
 * q_i ∈ [−Q, Q], Q = 2^(bits−1) − 1 (127 for INT8, 7 for INT4).
 *
 * <p>{@link #encode} sets Δ_g = max_{i∈g} |x_i| / Q and q_i = round(x_i / Δ_g) (nearest), so
 * |x_i − x̂_i| ≤ Δ_g / 2 and the largest |x_i| of a group is exact (up to fp32 rounding of Δ_g);
 * a group of zeros gets Δ_g = 0 and codes 0. A Δ_g that would be subnormal (max |x_i| below
 * Q·2⁻¹²⁶) is rounded up to the next float with Q·Δ_g ≥ max |x_i|, so the bound holds to within
 * half the smallest subnormal. Unlike {@link GroupQuantizer}'s asymmetric codes there
 * is no zero point: x̂ is linear in Δ, so changing a scale rescales its whole group and keeps every
 * sign.
 *
 * <p>Storage: INT8 one signed byte per code; INT4 two 4-bit two's-complement codes per byte,
 * element 2k in the low nibble of byte k. NaN policy as in {@link GroupQuantizer}: a non-finite
 * input is an IllegalArgumentException naming the element's index. Instances are immutable.
 */
public final class SymmetricCodes extends GroupCodes {
    private static final int CHUNK_GROUPS = 64;

    private final byte[] codes;

    private SymmetricCodes(int bits, int groupSize, int length, byte[] codes) {
        super(bits, groupSize, length);
        this.codes = codes;
    }

    /** The number of groups (and scales) of a tensor of {@code length} elements. */
    public static int groupCount(int length, int groupSize) {
        return QuantizedTensor.groups(length, groupSize);
    }

    /** IllegalArgumentException unless {@code bits} ∈ {4, 8} and {@code groupSize} > 0 (even for INT4). */
    public static void checkFormat(int bits, int groupSize) {
        GroupQuantizer.checkFormat(bits, groupSize);
    }

    /** The largest code magnitude Q = 2^(bits−1) − 1. */
    public static int maxCode(int bits) {
        return (1 << (bits - 1)) - 1;
    }

    /**
     * Encodes {@code src[off .. off + len)} (absolute indices; the buffer's position is ignored)
     * and writes each group's scale Δ_g to {@code scales[g]} ({@code scales} holds
     * {@link #groupCount} values).
     */
    public static SymmetricCodes encode(int bits, int groupSize, FloatBuffer src, int off, int len, float[] scales) {
        checkFormat(bits, groupSize);
        if (len < 0 || off < 0 || (long) off + len > src.limit()) {
            throw new IllegalArgumentException("src: range [" + off + ", " + ((long) off + len) + ") outside [0, "
                    + src.limit() + ")");
        }
        int groups = groupCount(len, groupSize);
        if (scales.length != groups) {
            throw new IllegalArgumentException("scales: expected " + groups + " values, got " + scales.length);
        }
        byte[] codes = new byte[QuantizedTensor.codeBytes(bits, len)];
        int q = maxCode(bits);
        float[] chunk = new float[CHUNK_GROUPS * groupSize];
        for (int start = 0; start < len; start += chunk.length) {
            int n = Math.min(chunk.length, len - start);
            src.get(off + start, chunk, 0, n);
            for (int k = 0; k < n; k += groupSize) {
                int m = Math.min(groupSize, n - k);
                float max = 0f;
                for (int j = k; j < k + m; j++) {
                    float x = chunk[j];
                    if (!Float.isFinite(x)) {
                        throw new IllegalArgumentException("INT" + bits + " symmetric encode: non-finite value " + x
                                + " at index " + (start + j));
                    }
                    max = Math.max(max, Math.abs(x));
                }
                float scale = max / q;
                float inv = max > 0 ? q / max : 0f;
                float pre = 1f;
                if (scale < Float.MIN_NORMAL && max > 0) {
                    // a subnormal Δ (or one that underflowed to 0): rounded up until Q steps reach
                    // max, and the codes taken of x·2⁶⁴ against Δ·2⁶⁴ (exact), whose inverse is finite
                    while ((double) scale * q < max) {
                        scale = Math.nextUp(scale);
                    }
                    pre = 0x1p64f;
                    inv = 1f / (scale * pre);
                }
                scales[(start + k) / groupSize] = scale;
                for (int j = k; j < k + m; j++) {
                    int code = Math.max(-q, Math.min(q, Math.round(chunk[j] * pre * inv)));
                    put(codes, bits, start + j, code);
                }
            }
        }
        return new SymmetricCodes(bits, groupSize, len, codes);
    }

    private static void put(byte[] codes, int bits, int i, int code) {
        if (bits == 8) {
            codes[i] = (byte) code;
        } else {
            int b = i >>> 1;
            int shift = (i & 1) << 2;
            codes[b] = (byte) ((codes[b] & ~(0xF << shift)) | ((code & 0xF) << shift));
        }
    }

    /** Bytes of the codes (the scales belong to the caller). */
    public long bytes() {
        return codes.length;
    }

    /** The signed code q_i of element i, in [−Q, Q]. */
    public int code(int i) {
        if (i < 0 || i >= length) {
            throw new IndexOutOfBoundsException("index " + i + " out of [0, " + length + ")");
        }
        if (bits == 8) {
            return codes[i];
        }
        int nibble = (codes[i >>> 1] >>> ((i & 1) << 2)) & 0xF;
        return (nibble << 28) >> 28; // sign-extend the 4-bit two's complement
    }

    /**
     * Writes x̂_i = scale · q_i for every element i of group {@code g} to {@code dst[dstOff ..]}
     * (groupSize values, fewer for a short last group); returns how many were written.
     */
    public int decodeGroup(int g, double scale, double[] dst, int dstOff) {
        if (g < 0 || g >= groupCount()) {
            throw new IndexOutOfBoundsException("group " + g + " out of [0, " + groupCount() + ")");
        }
        int from = g * groupSize;
        int m = Math.min(groupSize, length - from);
        if (bits == 8) {
            for (int j = 0; j < m; j++) {
                dst[dstOff + j] = scale * codes[from + j];
            }
        } else {
            for (int j = 0; j < m; j++) {
                int i = from + j;
                int nibble = (codes[i >>> 1] >>> ((i & 1) << 2)) & 0xF;
                dst[dstOff + j] = scale * ((nibble << 28) >> 28);
            }
        }
        return m;
    }

    @Override
    public String toString() {
        return "SymmetricCodes[INT" + bits + ", groupSize=" + groupSize + ", length=" + length + "]";
    }
}
