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
        // |x| orders like its bits as an int, and an int max reduction vectorizes (a float
        // Math.max, with its NaN rules, does not). Bits >= 0x7F800000 are ±inf or NaN.
        int maxAbs = 0;
        int signs = 0;
        for (int j = p; j < p + n; j++) {
            int bits = Float.floatToRawIntBits(src[j]);
            maxAbs = Math.max(maxAbs, bits & 0x7FFFFFFF);
            signs |= bits;
        }
        return checkedMax(maxAbs, signs, src, p, n, element);
    }

    /**
     * The float of {@code maxAbs}, the largest |x| bits of a scan of src[p .. p + n) whose
     * sign bits OR to {@code signs}; throws for a non-finite value, or a negative one when this
     * codec stores the second moment (a sign bit alone may be −0.0, which passes).
     */
    final float checkedMax(int maxAbs, int signs, float[] src, int p, int n, int element) {
        if (maxAbs >= 0x7F800000 || (moment == Moment.SECOND && signs < 0 && hasNegative(src, p, n))) {
            throw badValue(src, p, n, element);
        }
        return Float.intBitsToFloat(maxAbs);
    }

    /** Whether some x &lt; 0 (a sign bit alone may be −0.0, which is not negative). */
    private static boolean hasNegative(float[] src, int p, int n) {
        for (int j = p; j < p + n; j++) {
            if (src[j] < 0) {
                return true;
            }
        }
        return false;
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
