package io.galore4j.quant;

/** Shared argument checking and block scanning of the state codecs. */
abstract class BlockCodec implements StateCodec {
    final String name;
    final Moment moment;
    final int bits;
    final int blockSize;

    BlockCodec(String name, Moment moment, int bits, int blockSize) {
        this.name = name;
        this.moment = moment;
        this.bits = bits;
        this.blockSize = blockSize;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Moment moment() {
        return moment;
    }

    @Override
    public int bits() {
        return bits;
    }

    @Override
    public int blockSize() {
        return blockSize;
    }

    @Override
    public boolean supportsRanges() {
        return true;
    }

    @Override
    public final EncodedState allocate(int rows, int cols) {
        if (rows < 0 || cols < 0 || (long) rows * cols > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(name + " allocate: bad shape " + rows + "x" + cols);
        }
        return newState(rows, cols, rows * cols);
    }

    abstract EncodedState newState(int rows, int cols, int length);

    /** Encodes elements [from, from + len) (a checked range) from src[p ..]. */
    abstract void encodeBlocks(float[] src, int p, EncodedState s, int from, int len, RoundingRng rng);

    /** Decodes elements [from, from + len) (a checked range) into dst[d ..]. */
    abstract void decodeBlocks(EncodedState s, int from, int len, float[] dst, int d);

    /**
     * From this many elements on, whole-tensor {@link #encode}/{@link #decode} of a codec whose
     * blocks are independent (not {@link #stochastic()}) run in runs of {@value #PARALLEL_RUN}
     * elements on the fork-join common pool and the calling thread; the result is the same as in
     * order. Ranges ({@link #encodeRange}, the optimizer's chunks) stay on the calling thread.
     */
    static final int PARALLEL_MIN_ELEMENTS = 1 << 18;

    /** Elements per parallel run: a multiple of every block size, and of 8 (whole bytes of 2-, 3- and 4-bit codes). */
    static final int PARALLEL_RUN = 1 << 16;

    private boolean parallel(EncodedState s) {
        return s != null && s.length() >= PARALLEL_MIN_ELEMENTS && supportsRanges() && !stochastic();
    }

    @Override
    public final void encode(float[] src, int srcOff, EncodedState dst, RoundingRng rng) {
        if (!parallel(dst)) {
            encodeRange(src, srcOff, dst, 0, dst == null ? 0 : dst.length(), rng);
            return;
        }
        int len = dst.length();
        checkRange("encode", dst, 0, len);
        checkArray("src", src == null ? -1 : src.length, srcOff, len);
        ParallelRuns.forEach(len, PARALLEL_RUN, true,
                (start, n) -> encodeBlocks(src, srcOff + start, dst, start, n, rng));
    }

    @Override
    public final void decode(EncodedState src, float[] dst, int dstOff) {
        if (!parallel(src)) {
            decodeRange(src, 0, src == null ? 0 : src.length(), dst, dstOff);
            return;
        }
        int len = src.length();
        checkRange("decode", src, 0, len);
        checkArray("dst", dst == null ? -1 : dst.length, dstOff, len);
        ParallelRuns.forEach(len, PARALLEL_RUN, true, (start, n) -> decodeBlocks(src, start, n, dst, dstOff + start));
    }

    @Override
    public final void encodeRange(float[] src, int srcOff, EncodedState dst, int from, int len, RoundingRng rng) {
        checkRange("encode", dst, from, len);
        checkArray("src", src == null ? -1 : src.length, srcOff, len);
        encodeBlocks(src, srcOff, dst, from, len, rng);
    }

    @Override
    public final void decodeRange(EncodedState src, int from, int len, float[] dst, int dstOff) {
        checkRange("decode", src, from, len);
        checkArray("dst", dst == null ? -1 : dst.length, dstOff, len);
        decodeBlocks(src, from, len, dst, dstOff);
    }

    private void checkRange(String op, EncodedState s, int from, int len) {
        if (s == null || !s.codec().equals(name)) {
            throw new IllegalArgumentException(name + " " + op + ": state belongs to codec "
                    + (s == null ? "null" : "'" + s.codec() + "'"));
        }
        if (from < 0 || len < 0 || (long) from + len > s.length()) {
            throw new IllegalArgumentException(name + " " + op + ": range [" + from + ", " + ((long) from + len)
                    + ") outside [0, " + s.length() + ")");
        }
        int step = Math.max(1, blockSize);
        if (from % step != 0 || (len % step != 0 && from + len != s.length())) {
            throw new IllegalArgumentException(name + " " + op + ": range [" + from + ", " + (from + len)
                    + ") not aligned to blocks of " + blockSize);
        }
    }

    private void checkArray(String what, int capacity, int off, int len) {
        if (capacity < 0) {
            throw new IllegalArgumentException(name + ": " + what + " must not be null");
        }
        if (off < 0 || (long) off + len > capacity) {
            throw new IllegalArgumentException(name + ": " + what + " range [" + off + ", " + ((long) off + len)
                    + ") outside array of " + capacity);
        }
    }

    /**
     * max |x| over src[p .. p + n); throws for a non-finite value, or a negative one when this
     * codec stores the second moment. {@code element} is the state index of src[p].
     */
    final float absMax(float[] src, int p, int n, int element) {
        // reductions over the bits as ints (see OrderedBits)
        if (moment == Moment.SECOND) {
            int hi = 0;
            int lo = 0;
            for (int j = p; j < p + n; j++) {
                int o = OrderedBits.of(Float.floatToRawIntBits(src[j]));
                hi = Math.max(hi, o);
                lo = Math.min(lo, o);
            }
            if (hi >= OrderedBits.POS_INF || lo < OrderedBits.NEG_ZERO) { // NaN, +inf, or some x < 0 (−0.0 passes)
                throw badValue(src, p, n, element);
            }
            return Float.intBitsToFloat(hi);
        }
        int max = 0;
        for (int j = p; j < p + n; j++) {
            max = Math.max(max, Float.floatToRawIntBits(src[j]) & 0x7FFFFFFF);
        }
        if (max >= OrderedBits.ABS_INF) { // NaN or ±inf
            throw badValue(src, p, n, element);
        }
        return Float.intBitsToFloat(max);
    }

    final IllegalArgumentException badValue(float[] src, int p, int n, int element) {
        for (int j = 0; j < n; j++) {
            float v = src[p + j];
            if (!Float.isFinite(v)) {
                return new IllegalArgumentException(name + " encode: non-finite value " + v + " at index " + (element + j));
            }
            if (moment == Moment.SECOND && v < 0) {
                return new IllegalArgumentException(name + " encode: negative value " + v + " at index " + (element + j)
                        + " (the second moment must be >= 0)");
            }
        }
        throw new AssertionError("no bad value found");
    }

    @Override
    public String toString() {
        return name + "(" + moment + ")";
    }
}
