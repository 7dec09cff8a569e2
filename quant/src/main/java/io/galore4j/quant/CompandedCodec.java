package io.galore4j.quant;

/**
 * FlashOptim companded 8-bit codecs (docs/design.md §3), groups of 32 with a 16-bit scale.
 * <ul>
 * <li>{@code softsign8} (first moment): s = group max |m|; z = m/s ∈ [−1, 1];
 * y = 2z/(1 + |z|) (softsign companding, finer steps near 0); code q = round(127·y) as int8;
 * decode z = y/(2 − |y|) with y = q/127, m̂ = z·s.</li>
 * <li>{@code sqrt8} (second moment): r = √v; s = group max r; q = round(255·r/s) as uint8,
 * raised to 1 for v &gt; 0 (no positive v decodes to 0); decode v̂ = (q/255·s)².</li>
 * </ul>
 * The scale is stored as bfloat16 rounded up (so |x|/s ≤ 1): 16 bits like FlashOptim's fp16
 * scale, but with fp32's exponent range — fp16 flushes group maxima below 6·10⁻⁸ (routine for
 * √v and m of small gradients) to zero. Encoding uses the stored scale.
 */
final class CompandedCodec extends BlockCodec {
    private static final int BLOCK = 32;
    /** Elements per pass of the encoder: 64 groups. */
    private static final int SPAN = 64 * BLOCK;
    /** One span's values, per-element 1/scale, companded values and codes ({@link Staging}). */
    private static final Staging.Slot<float[]> SPAN_X = Staging.floats();
    private static final Staging.Slot<float[]> SPAN_INV = Staging.floats();
    private static final Staging.Slot<float[]> SPAN_T = Staging.floats();
    private static final Staging.Slot<int[]> SPAN_CODES = Staging.ints();
    private final float[] decodeTable;

    CompandedCodec(Moment moment) {
        super(moment == Moment.FIRST ? "softsign8" : "sqrt8", moment, 8, BLOCK);
        decodeTable = new float[256];
        for (int c = 0; c < 256; c++) {
            if (moment == Moment.FIRST) {
                float y = (byte) c / 127f;
                decodeTable[c] = y / (2f - Math.abs(y));
            } else {
                float r = c / 255f;
                decodeTable[c] = r * r;
            }
        }
    }

    /** bfloat16 bits of the smallest bfloat16 ≥ s (finite s ≥ 0), capped at the largest finite. */
    static short bf16Up(float s) {
        int bits = Float.floatToRawIntBits(s);
        int up = (bits & 0xFFFF) == 0 ? bits : bits + 0x10000;
        if (Float.isInfinite(Float.intBitsToFloat(up & 0xFFFF0000))) {
            up = 0x7F7F0000;
        }
        return (short) (up >>> 16);
    }

    static float bf16(short h) {
        return Float.intBitsToFloat(h << 16);
    }

    /** A bf16 scale per group of {@value #BLOCK}. */
    @Override
    public long scaleBytes(long rows, long cols) {
        return 2 * ((rows * cols + BLOCK - 1) / BLOCK);
    }

    @Override
    EncodedState newState(int rows, int cols, int length) {
        int groups = (length + blockSize - 1) / blockSize;
        return new EncodedState(name, rows, cols, null, new byte[length], null, new short[groups], null, null);
    }

    @Override
    void encodeBlocks(float[] src, int p, EncodedState s, int from, int len, RoundingRng rng) {
        float[] x = SPAN_X.get(SPAN);
        float[] inv = SPAN_INV.get(SPAN);
        float[] t = SPAN_T.get(SPAN);
        int[] c = SPAN_CODES.get(SPAN);
        for (int k = 0; k < len; k += SPAN) {
            encodeSpan(src, p + k, s, from + k, Math.min(SPAN, len - k), x, inv, t, c);
        }
    }

    /**
     * One span of up to {@value #SPAN} elements. The arithmetic runs as loops over the whole span
     * at offset 0, which JDK 17's C2 vectorizes (a group of 32 is too short, and a loop over
     * arrays at different offsets is not vectorized): the group maxima ({@link #maxBits}, which
     * also finds non-finite and negative values), each group's
     * 1/scale spread over its elements, the companding, and the rounding by adding
     * {@link MagicRound}; only the final narrowing to bytes is a scalar loop.
     */
    private void encodeSpan(float[] src, int q, EncodedState s, int element, int m, float[] x, float[] inv,
            float[] t, int[] c) {
        boolean first = moment == Moment.FIRST;
        System.arraycopy(src, q, x, 0, m);
        for (int g = 0; g < m; g += BLOCK) {
            int n = Math.min(BLOCK, m - g);
            int maxBits = maxBits(x, g, n, first);
            if (maxBits < 0) {
                throw badValue(src, q + g, n, element + g);
            }
            float amax = Float.intBitsToFloat(maxBits);
            short h = bf16Up(first ? amax : (float) Math.sqrt(amax));
            s.halfScales[(element + g) / BLOCK] = h;
            float scale = bf16(h);
            java.util.Arrays.fill(inv, g, g + n, scale > 0 ? 1f / scale : 0f);
        }
        if (first) {
            // round(127·y) + 128 ∈ [1, 255]: |z| ≤ 1 up to the rounding of 1/scale, which keeps
            // 127·y within 127.5
            for (int j = 0; j < m; j++) {
                float z = x[j] * inv[j];
                t[j] = 254f * z / (1f + Math.abs(z)) + (MagicRound.MAGIC + 128f);
            }
            for (int j = 0; j < m; j++) {
                c[j] = Float.floatToRawIntBits(t[j]) - (MagicRound.BITS + 128);
            }
        } else {
            for (int j = 0; j < m; j++) {
                // at most 255, and at least 1 for v > 0: v·10³⁸·10³⁸ ≥ 1 for every positive
                // float v (the smallest is 1.4·10⁻⁴⁵), 0 for v = 0 (−0 for −0.0)
                float r = (float) Math.sqrt(x[j]) * inv[j] * 255f;
                t[j] = Math.min(255f, Math.max(r, Math.min(1f, x[j] * 1e38f * 1e38f))) + MagicRound.MAGIC;
            }
            for (int j = 0; j < m; j++) {
                c[j] = Float.floatToRawIntBits(t[j]) - MagicRound.BITS;
            }
        }
        byte[] codes = s.codes;
        for (int j = 0; j < m; j++) {
            codes[element + j] = (byte) c[j];
        }
    }

    /**
     * Bits of the group maximum over x[g .. g + n): of |x| for a first moment, of x for a second
     * one; −1 when some x is NaN or infinite, or, for a second moment, negative. A second
     * moment's maximum is over the raw bits as ints, which order non-negative floats; a set sign
     * bit anywhere (a negative value, a NaN with its sign set, or −0.0, which passes) sends the
     * group to a check of its values. Four lanes at a time, for independent chains.
     */
    private static int maxBits(float[] x, int g, int n, boolean first) {
        int mask = first ? 0x7FFFFFFF : -1;
        int m0 = 0;
        int m1 = 0;
        int m2 = 0;
        int m3 = 0;
        int signs = 0;
        int j = g;
        for (; j + 4 <= g + n; j += 4) {
            int b0 = Float.floatToRawIntBits(x[j]);
            int b1 = Float.floatToRawIntBits(x[j + 1]);
            int b2 = Float.floatToRawIntBits(x[j + 2]);
            int b3 = Float.floatToRawIntBits(x[j + 3]);
            m0 = Math.max(m0, b0 & mask);
            m1 = Math.max(m1, b1 & mask);
            m2 = Math.max(m2, b2 & mask);
            m3 = Math.max(m3, b3 & mask);
            signs |= b0 | b1 | b2 | b3;
        }
        for (; j < g + n; j++) {
            int b0 = Float.floatToRawIntBits(x[j]);
            m0 = Math.max(m0, b0 & mask);
            signs |= b0;
        }
        if (!first && signs < 0) {
            for (int i = g; i < g + n; i++) {
                if (!(x[i] >= 0)) {
                    return -1;
                }
            }
        }
        int max = Math.max(Math.max(m0, m1), Math.max(m2, m3));
        return max >= 0x7F800000 ? -1 : max;
    }

    @Override
    void decodeBlocks(EncodedState s, int from, int len, float[] dst, int d) {
        byte[] codes = s.codes;
        float[] table = decodeTable;
        boolean first = moment == Moment.FIRST;
        for (int k = 0; k < len; k += blockSize) {
            int n = Math.min(blockSize, len - k);
            int element = from + k;
            float scale = bf16(s.halfScales[element / blockSize]);
            int o = d + k;
            if (first) {
                for (int j = 0; j < n; j++) {
                    dst[o + j] = table[codes[element + j] & 0xFF] * scale;
                }
            } else {
                for (int j = 0; j < n; j++) {
                    dst[o + j] = table[codes[element + j] & 0xFF] * scale * scale;
                }
            }
        }
    }
}
