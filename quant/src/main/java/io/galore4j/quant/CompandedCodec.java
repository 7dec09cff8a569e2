package io.galore4j.quant;

/**
 * FlashOptim companded 8-bit codecs (DESIGN.md §3), groups of 32 with a 16-bit scale.
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
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[BLOCK]);
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

    @Override
    EncodedState newState(int rows, int cols, int length) {
        int groups = (length + blockSize - 1) / blockSize;
        return new EncodedState(name, rows, cols, null, new byte[length], null, new short[groups], null, null);
    }

    @Override
    void encodeBlocks(float[] src, int p, EncodedState s, int from, int len, RoundingRng rng) {
        byte[] codes = s.codes;
        boolean first = moment == Moment.FIRST;
        float[] t = SCRATCH.get();
        for (int k = 0; k < len; k += blockSize) {
            int n = Math.min(blockSize, len - k);
            int element = from + k;
            int q = p + k;
            float amax = absMax(src, q, n, element);
            short h = bf16Up(first ? amax : (float) Math.sqrt(amax));
            s.halfScales[element / blockSize] = h;
            float scale = bf16(h);
            float inv = scale > 0 ? 1f / scale : 0f;
            if (first) {
                // two passes: the float arithmetic vectorizes on its own, the float-to-byte
                // conversion does not (JDK 17), and one loop doing both runs 2.3× slower.
                // t = 127·y + 128.5 > 0, so (int) t − 128 = ⌊127·y + 0.5⌋ = round(127·y); |z| ≤ 1
                // up to the rounding of 1/scale, which keeps 127·y below 127.5
                for (int j = 0; j < n; j++) {
                    float z = src[q + j] * inv;
                    t[j] = 254f * z / (1f + Math.abs(z)) + 128.5f;
                }
                for (int j = 0; j < n; j++) {
                    codes[element + j] = (byte) ((int) t[j] - 128);
                }
            } else {
                for (int j = 0; j < n; j++) {
                    float x = src[q + j];
                    int c = Math.min(255, (int) ((float) Math.sqrt(x) * inv * 255f + 0.5f));
                    codes[element + j] = (byte) (c == 0 && x > 0 ? 1 : c);
                }
            }
        }
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
