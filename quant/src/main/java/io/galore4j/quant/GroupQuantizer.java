package io.galore4j.quant;

import java.nio.FloatBuffer;

/**
 * Group-wise asymmetric min–max quantizer for weights and projection bases (Q-GaLore, docs/design.md
 * §3 "Q-GaLore additions"): consecutive groups of {@code groupSize} elements (default 256), each
 * with scale s = (max − min) / (2^bits − 1) and zero point z = min; code
 * q = clip(round((x − z) / s), 0, 2^bits − 1) (to nearest, ties to even), decoded x̂ = z + q·s.
 * The zero point is the minimum itself, not an integer code, so a group of one sign uses every
 * code: round to nearest decodes within s/2, stochastic rounding within s. A constant group has
 * s = 0 and decodes exactly. Where s would be subnormal (a range below (2^bits − 1)·2⁻¹²⁶, e.g.
 * zeros and one tiny value) it is rounded up to the next float whose 2^bits − 1 steps cover the
 * range, so no code is clipped and the bound holds to within half the smallest subnormal; a
 * group whose max − min overflows fp32 is refused (IllegalArgumentException naming the group).
 * {@link Rounding#STOCHASTIC} rounds t = (x − z)/s up with probability frac(t), so E[x̂] = x.
 *
 * <p>INT4 codes are packed two per byte (see {@link QuantizedTensor}); INT8 one per byte.
 *
 * <p>NaN policy: a NaN or infinite input makes {@code quantize}/{@code requantize} throw
 * {@link IllegalArgumentException} naming the value and its element index (the target tensor
 * may then hold partly updated groups); no code is ever produced from a non-finite value.
 *
 * <p>FloatBuffer variants use absolute, bulk indexing (the buffer's position is ignored and not
 * changed) and copy through a per-thread {@link Staging} array, so direct buffers (e.g. ND4J's
 * {@code data().asNioFloat()}) run at array speed. Instances are immutable and thread-safe.
 *
 * <p>Whole tensors are processed in runs of {@code chunk} elements (16,384 rounded to whole
 * groups). From {@value #PARALLEL_MIN_ELEMENTS} elements on, {@code quantize}, {@code requantize}
 * and {@code dequantize} spread the runs over the common fork-join pool and the calling thread.
 * Stochastic rounding draws one word from the caller's generator per call and takes element i's
 * uniform from {@link RoundingRng#counterWords}(word, i), so the codes are the same whatever the
 * size, the thread count or the order the runs take.
 */
public final class GroupQuantizer {
    public static final int DEFAULT_GROUP_SIZE = 256;
    private static final int CHUNK_ELEMENTS = 1 << 14;
    /** Tensors with at least this many elements are encoded and decoded by several threads. */
    public static final int PARALLEL_MIN_ELEMENTS = 1 << 18;
    /** A run staged from or to a FloatBuffer ({@link Staging}). */
    private static final Staging.Slot<float[]> RUN = Staging.floats();
    /** One group's shifted values, uniforms and codes in the code loops. */
    private static final Staging.Slot<float[]> GROUP_X = Staging.floats();
    private static final Staging.Slot<float[]> GROUP_U = Staging.floats();
    private static final Staging.Slot<int[]> GROUP_CODES = Staging.ints();

    /** This thread's arrays of the code loops, taken once per run of groups. */
    private record GroupScratch(float[] x, float[] u, int[] codes) {
    }

    private final int bits;
    private final int groupSize;
    private final int maxCode;
    private final int chunk;

    /** {@code bits} ∈ {4, 8}, groups of {@value #DEFAULT_GROUP_SIZE}. */
    public GroupQuantizer(int bits) {
        this(bits, DEFAULT_GROUP_SIZE);
    }

    /** {@code bits} ∈ {4, 8}; {@code groupSize} > 0 (even for INT4, so groups start on a byte). */
    public GroupQuantizer(int bits, int groupSize) {
        checkFormat(bits, groupSize);
        this.bits = bits;
        this.groupSize = groupSize;
        this.maxCode = (1 << bits) - 1;
        this.chunk = Math.max(1, CHUNK_ELEMENTS / groupSize) * groupSize;
    }

    static void checkFormat(int bits, int groupSize) {
        if (bits != 4 && bits != 8) {
            throw new IllegalArgumentException("bits must be 4 or 8, got " + bits);
        }
        if (groupSize <= 0) {
            throw new IllegalArgumentException("groupSize must be > 0, got " + groupSize);
        }
        if (bits == 4 && (groupSize & 1) != 0) {
            throw new IllegalArgumentException("groupSize must be even for INT4 (two codes per byte), got " + groupSize);
        }
    }

    public int bits() {
        return bits;
    }

    public int groupSize() {
        return groupSize;
    }

    /** A tensor of {@code length} elements that all decode to 0, ready for {@code requantize}. */
    public QuantizedTensor allocate(int length) {
        return new QuantizedTensor(bits, groupSize, length);
    }

    public QuantizedTensor quantize(float[] src, int off, int len, Rounding rounding, RoundingRng rng) {
        QuantizedTensor t = allocate(len);
        requantize(t, src, off, rounding, rng);
        return t;
    }

    public QuantizedTensor quantize(FloatBuffer src, int off, int len, Rounding rounding, RoundingRng rng) {
        QuantizedTensor t = allocate(len);
        requantize(t, src, off, rounding, rng);
        return t;
    }

    /** Overwrites {@code into} with the codes of {@code src[off .. off + into.length())}; no allocation. */
    public void requantize(QuantizedTensor into, float[] src, int off, Rounding rounding, RoundingRng rng) {
        checkTarget(into, rounding, rng);
        checkRange("src", src.length, off, into.length());
        long key = rounding == Rounding.STOCHASTIC ? rng.nextLong() : 0;
        forEachRun(into.length(), (start, n) -> encodeRange(src, off + start, into, start, n, rounding, key));
    }

    /** As {@link #requantize(QuantizedTensor, float[], int, Rounding, RoundingRng)} from absolute index {@code off}. */
    public void requantize(QuantizedTensor into, FloatBuffer src, int off, Rounding rounding, RoundingRng rng) {
        checkTarget(into, rounding, rng);
        checkRange("src", src.limit(), off, into.length());
        long key = rounding == Rounding.STOCHASTIC ? rng.nextLong() : 0;
        forEachRun(into.length(), (start, n) -> {
            float[] scratch = RUN.get(chunk);
            src.get(off + start, scratch, 0, n);
            encodeRange(scratch, 0, into, start, n, rounding, key);
        });
    }

    /** Writes the decoded values of {@code q} to {@code dst[dstOff .. dstOff + q.length())}. */
    public void dequantize(QuantizedTensor q, float[] dst, int dstOff) {
        checkSource(q);
        checkRange("dst", dst.length, dstOff, q.length());
        forEachRun(q.length(), (start, n) -> decodeRange(q, start, n, dst, dstOff + start));
    }

    /**
     * Dequantizes elements [from, from + len) of {@code q} into {@code dst[dstOff ..]}; {@code from}
     * must be a multiple of the group size (a range starts at a group boundary).
     */
    public void dequantizeRange(QuantizedTensor q, int from, int len, float[] dst, int dstOff) {
        checkSource(q);
        if (from % groupSize != 0) {
            throw new IllegalArgumentException("dequantizeRange: from " + from + " is not a multiple of the group size "
                    + groupSize);
        }
        checkRange("source", q.length(), from, len);
        checkRange("dst", dst.length, dstOff, len);
        decodeRange(q, from, len, dst, dstOff);
    }

    /** As {@link #dequantize(QuantizedTensor, float[], int)} to absolute index {@code dstOff}. */
    public void dequantize(QuantizedTensor q, FloatBuffer dst, int dstOff) {
        checkSource(q);
        checkRange("dst", dst.limit(), dstOff, q.length());
        forEachRun(q.length(), (start, n) -> {
            float[] scratch = RUN.get(chunk);
            decodeRange(q, start, n, scratch, 0);
            dst.put(dstOff + start, scratch, 0, n);
        });
    }

    /**
     * Calls {@code run} for every run of {@code chunk} elements of a tensor of {@code length}:
     * in order on this thread, or in parallel from {@value #PARALLEL_MIN_ELEMENTS} elements on.
     */
    private void forEachRun(int length, ParallelRuns.Run run) {
        ParallelRuns.forEach(length, chunk, length >= PARALLEL_MIN_ELEMENTS, run);
    }

    private void checkTarget(QuantizedTensor into, Rounding rounding, RoundingRng rng) {
        checkSource(into);
        if (rounding == null) {
            throw new IllegalArgumentException("rounding must not be null");
        }
        if (rounding == Rounding.STOCHASTIC && rng == null) {
            throw new IllegalArgumentException("rng must not be null for STOCHASTIC rounding");
        }
    }

    private void checkSource(QuantizedTensor q) {
        if (q.bits() != bits || q.groupSize() != groupSize) {
            throw new IllegalArgumentException("tensor format INT" + q.bits() + "/group " + q.groupSize()
                    + " does not match quantizer INT" + bits + "/group " + groupSize);
        }
    }

    private static void checkRange(String what, int capacity, int off, int len) {
        if (off < 0 || (long) off + len > capacity) {
            throw new IllegalArgumentException(what + ": range [" + off + ", " + ((long) off + len)
                    + ") outside [0, " + capacity + ")");
        }
    }

    /**
     * Encodes elements [start, start + n) of {@code t} (start a multiple of groupSize) from src[p ..];
     * {@code key} keys the stochastic rounding's counter words.
     */
    private void encodeRange(float[] src, int p, QuantizedTensor t, int start, int n,
                             Rounding rounding, long key) {
        GroupScratch w = new GroupScratch(GROUP_X.get(groupSize), GROUP_U.get(groupSize), GROUP_CODES.get(groupSize));
        boolean stochastic = rounding == Rounding.STOCHASTIC;
        for (int k = 0; k < n; k += groupSize) {
            int m = Math.min(groupSize, n - k);
            int from = p + k;
            // min and max over the ordered bits (see OrderedBits)
            int lo = Integer.MAX_VALUE;
            int hi = Integer.MIN_VALUE;
            for (int j = from; j < from + m; j++) {
                int o = OrderedBits.of(Float.floatToRawIntBits(src[j]));
                lo = Math.min(lo, o);
                hi = Math.max(hi, o);
            }
            if (lo <= OrderedBits.NEG_INF || hi >= OrderedBits.POS_INF) { // a NaN orders beyond the infinities
                throw nonFinite(src, from, m, start + k);
            }
            float min = Float.intBitsToFloat(OrderedBits.of(lo));
            float max = Float.intBitsToFloat(OrderedBits.of(hi));
            int g = (start + k) / groupSize;
            float range = max - min;
            if (range == Float.POSITIVE_INFINITY) {
                throw new IllegalArgumentException("INT" + bits + " quantize: group " + g + " spans [" + min + ", " + max
                        + "], beyond fp32 (max − min overflows, so no step decodes it)");
            }
            float scale = range / maxCode;
            float pre = 1f;
            if (scale < Float.MIN_NORMAL && range > 0) {
                // a subnormal step has few significant bits (or underflowed to 0): round it up until
                // maxCode steps cover the range, so no code is clipped, and take the codes of
                // (x − min)·2⁶⁴ with the step times 2⁶⁴ (both exact), whose inverse stays finite
                while ((double) scale * maxCode < range) {
                    scale = Math.nextUp(scale);
                }
                pre = 0x1p64f;
            }
            float inv = scale > 0 ? 1f / (scale * pre) : 0f;
            t.scales[g] = scale;
            t.zeroPoints[g] = min;
            int e = start + k;
            if (bits == 8) {
                encode8(src, from, m, t.codes, e, min, pre, inv, stochastic, key, w);
            } else {
                encode4(src, from, m, t.codes, e, min, pre, inv, stochastic, key, w);
            }
        }
    }

    private IllegalArgumentException nonFinite(float[] src, int from, int m, int element) {
        for (int j = 0; j < m; j++) {
            if (!Float.isFinite(src[from + j])) {
                return new IllegalArgumentException("INT" + bits + " quantize: non-finite value " + src[from + j]
                        + " at index " + (element + j));
            }
        }
        throw new AssertionError("no non-finite value found");
    }

    private void encode8(float[] src, int from, int m, byte[] codes, int e, float zero, float pre, float inv,
                         boolean stochastic, long key, GroupScratch w) {
        int[] c = stochastic ? stochasticCodes(src, from, m, zero, pre, inv, e, key, w)
                : nearestCodes(src, from, m, zero, pre, inv, w);
        for (int j = 0; j < m; j++) {
            codes[e + j] = (byte) c[j];
        }
    }

    /**
     * The round-to-nearest codes of src[from .. from + m): min(maxCode, rint((x − zero)·inv)),
     * ties to even. The group is copied to offset 0 first: C2 vectorizes the loop there (not
     * over arrays at different offsets), with {@link MagicRound} in place of a conversion.
     */
    private int[] nearestCodes(float[] src, int from, int m, float zero, float pre, float inv, GroupScratch w) {
        float[] x = w.x();
        int[] c = w.codes();
        zero = shifted(src, from, m, x, zero, pre);
        float top = maxCode;
        // x − zero ≥ 0 and (x − zero)·inv ≤ maxCode up to rounding; two loops, as C2 vectorizes
        // float Math.min only in a loop without the bit move
        for (int j = 0; j < m; j++) {
            x[j] = Math.min(top, (x[j] - zero) * inv) + MagicRound.MAGIC;
        }
        for (int j = 0; j < m; j++) {
            c[j] = Float.floatToRawIntBits(x[j]) - MagicRound.BITS;
        }
        return c;
    }

    /**
     * The stochastic codes of src[from .. from + m) (element e first): ⌊t + u⌋ for t = (x − zero)·inv,
     * at most maxCode, with u uniform on the 2²² odd multiples of 2⁻²³ in (0, 1) (mean ½) taken from
     * the element's counter word. Computed as rint(t + (u − ½)) by {@link MagicRound}, so every loop
     * vectorizes (C2 does not vectorize a float-to-int conversion). The two differ only where the
     * float sum t + (u − ½) rounds to a half-integer, which rint sends to the even neighbour: an
     * error of the float rounding of the sum, as ⌊t + u⌋ computed in float has; for t &lt; 256 it
     * needs u within 2⁻¹⁷ of 1 − frac(t).
     */
    private int[] stochasticCodes(float[] src, int from, int m, float zero, float pre, float inv, int e, long key,
            GroupScratch w) {
        float[] x = w.x();
        float[] u = w.u();
        int[] c = w.codes();
        zero = shifted(src, from, m, x, zero, pre);
        RoundingRng.counterWords(key, e, c, m);
        for (int j = 0; j < m; j++) { // the float 1 + u from the word's top 22 bits and a low 1
            u[j] = Float.intBitsToFloat((c[j] >>> 9) | 0x3F800001);
        }
        float top = maxCode;
        // separate loops: C2 vectorizes float Math.min only in a loop without a bit move
        for (int j = 0; j < m; j++) {
            x[j] = Math.min(top, (x[j] - zero) * inv + (u[j] - 1.5f)) + MagicRound.MAGIC;
        }
        for (int j = 0; j < m; j++) {
            c[j] = Float.floatToRawIntBits(x[j]) - MagicRound.BITS;
        }
        return c;
    }

    /**
     * Copies src[from .. from + m) to x[0 ..] and returns the zero point to subtract from it: the
     * group's own, or, for a subnormal step ({@code pre} ≠ 1), 0 after x was replaced by
     * (x − zero)·pre, exactly (the difference of two close tiny floats is exact, and so is a
     * product by a power of two that stays normal).
     */
    private static float shifted(float[] src, int from, int m, float[] x, float zero, float pre) {
        System.arraycopy(src, from, x, 0, m);
        if (pre == 1f) {
            return zero;
        }
        for (int j = 0; j < m; j++) {
            x[j] = (x[j] - zero) * pre;
        }
        return 0f;
    }

    /** Code 2i in the low nibble of byte i, 2i + 1 in the high one (an odd tail's high nibble stays 0). */
    private void encode4(float[] src, int from, int m, byte[] codes, int e, float zero, float pre, float inv,
                         boolean stochastic, long key, GroupScratch w) {
        int b = e >>> 1;
        int pairs = m >>> 1;
        int[] c = stochastic ? stochasticCodes(src, from, m, zero, pre, inv, e, key, w)
                : nearestCodes(src, from, m, zero, pre, inv, w);
        for (int i = 0; i < pairs; i++) {
            codes[b + i] = (byte) (c[2 * i] | (c[2 * i + 1] << 4));
        }
        if ((m & 1) != 0) {
            codes[b + pairs] = (byte) c[m - 1];
        }
    }

    /** Decodes elements [start, start + n) (start a multiple of groupSize) into dst[d ..]. */
    private void decodeRange(QuantizedTensor t, int start, int n, float[] dst, int d) {
        byte[] codes = t.codes;
        for (int k = 0; k < n; k += groupSize) {
            int m = Math.min(groupSize, n - k);
            int g = (start + k) / groupSize;
            float scale = t.scales[g];
            float zero = t.zeroPoints[g];
            int e = start + k;
            int o = d + k;
            if (bits == 8) {
                for (int j = 0; j < m; j++) {
                    dst[o + j] = zero + (codes[e + j] & 0xFF) * scale;
                }
            } else {
                int b = e >>> 1;
                int pairs = m >>> 1;
                for (int i = 0; i < pairs; i++) {
                    int c = codes[b + i];
                    dst[o + 2 * i] = zero + (c & 0xF) * scale;
                    dst[o + 2 * i + 1] = zero + ((c >>> 4) & 0xF) * scale;
                }
                if ((m & 1) != 0) {
                    dst[o + m - 1] = zero + (codes[b + pairs] & 0xF) * scale;
                }
            }
        }
    }
}
