package io.galore4j.quant;

/**
 * SOLO logarithmic second-moment codec, 2 or 3 bits (docs/design.md §3 "2/3-bit"). Per block of
 * 128: Δ = block max, x_p = the p-quantile (p = 0.1) of the block's non-zero values divided by
 * Δ, α = x_p^(1/L) with L = 2^b − 1, levels Δ·α^c for c = 0 … L; code
 * c = clip(round(log(x/Δ)/log α + u), 0, L) with u uniform in (−½, ½) when an rng is given
 * (stochastic rounding in the log domain: E[c] = log(x/Δ)/log α inside the grid), u = 0
 * (nearest in the log domain) when rng is null.
 *
 * <p>Storage, 4 bytes per block: Δ is kept as an fp32 rounded to 15 mantissa bits, whose low
 * 8 bits hold a = round(−4·log2 x_p) ∈ [0, 255]; the grid uses the stored values, i.e.
 * α = 2^(−a/(4L)) (x_p on quarter octaves, clipped at 2^−63.75). Encoding uses the stored Δ.
 *
 * <p>Zeros: the grid has no zero. An exact zero in a block with a positive maximum encodes to
 * the smallest level Δ·α^L (overestimating v only shrinks that coordinate's Adam step, and
 * Adam's m is then 0 as well); the quantile ignores zeros. An all-zero block stores Δ = 0 and
 * decodes to zeros. A block whose non-zero values are all equal (a = 0, α = 1) stores code 0.
 * Positive values never decode to zero.
 */
final class LogCodec extends BlockCodec {
    static final double QUANTILE = 0.1;
    private final int maxCode;

    LogCodec(int bits) {
        super("log" + bits, Moment.SECOND, bits, 128);
        this.maxCode = (1 << bits) - 1;
    }

    @Override
    EncodedState newState(int rows, int cols, int length) {
        int blocks = (length + blockSize - 1) / blockSize;
        return new EncodedState(name, rows, cols, null, new byte[BitPacking.bytes(bits, length)],
                new float[blocks], null, null, null);
    }

    /** Δ rounded to 15 mantissa bits and never rounded to 0 or infinity; low 8 bits clear. */
    private static int roundedDelta(float max) {
        int bits = Float.floatToRawIntBits(max);
        int r = (bits + 0x80) & ~0xFF;
        if (Float.isInfinite(Float.intBitsToFloat(r))) {
            r = bits & ~0xFF;
        }
        return r == 0 ? 0x100 : r;
    }

    @Override
    public boolean stochastic() {
        return true;
    }

    @Override
    void encodeBlocks(float[] src, int p, EncodedState s, int from, int len, RoundingRng rng) {
        byte[] codes = new byte[blockSize];
        float[] work = new float[blockSize];
        for (int k = 0; k < len; k += blockSize) {
            int n = Math.min(blockSize, len - k);
            int element = from + k;
            int q = p + k;
            float max = absMax(src, q, n, element);
            int a = 0;
            int deltaBits = 0;
            if (max > 0) {
                deltaBits = roundedDelta(max);
                float delta = Float.intBitsToFloat(deltaBits);
                int nz = 0;
                for (int j = 0; j < n; j++) {
                    if (src[q + j] > 0) {
                        work[nz++] = src[q + j];
                    }
                }
                float xp = select(work, nz, (int) (QUANTILE * (nz - 1))) / delta;
                a = (int) Math.max(0, Math.min(255, Math.rint(-4 * Math.log(xp) / Math.log(2))));
                if (a == 0) {
                    java.util.Arrays.fill(codes, 0, n, (byte) 0);
                } else {
                    // t = log(x/Δ)/log α with log α = −a·ln2/(4L)
                    double lnDelta = Math.log(delta);
                    double perLn = -4.0 * maxCode / (a * Math.log(2));
                    for (int j = 0; j < n; j++) {
                        float x = src[q + j];
                        int c;
                        if (x > 0) {
                            double t = (Math.log(x) - lnDelta) * perLn;
                            double shift = rng == null ? 0.5 : rng.nextFloat();
                            c = (int) Math.max(0, Math.min(maxCode, Math.floor(t + shift)));
                        } else {
                            c = maxCode;
                        }
                        codes[j] = (byte) c;
                    }
                }
            } else {
                java.util.Arrays.fill(codes, 0, n, (byte) 0);
            }
            s.scales[element / blockSize] = Float.intBitsToFloat(deltaBits | a);
            BitPacking.pack(codes, n, bits, s.codes, element);
        }
    }

    /** The k-th smallest of x[0 .. n) (0-based), reordering x; quickselect. */
    static float select(float[] x, int n, int k) {
        int lo = 0;
        int hi = n - 1;
        while (lo < hi) {
            float pivot = x[(lo + hi) >>> 1];
            int i = lo;
            int j = hi;
            while (i <= j) {
                while (x[i] < pivot) {
                    i++;
                }
                while (x[j] > pivot) {
                    j--;
                }
                if (i <= j) {
                    float t = x[i];
                    x[i] = x[j];
                    x[j] = t;
                    i++;
                    j--;
                }
            }
            if (k <= j) {
                hi = j;
            } else if (k >= i) {
                lo = i;
            } else {
                return x[k];
            }
        }
        return x[k];
    }

    /** The decoded levels Δ·α^c, c = 0 … L, of a stored block scale word. */
    float[] levels(float scaleWord) {
        float[] levels = new float[maxCode + 1];
        fillLevels(scaleWord, levels);
        return levels;
    }

    private void fillLevels(float scaleWord, float[] levels) {
        int word = Float.floatToRawIntBits(scaleWord);
        float delta = Float.intBitsToFloat(word & ~0xFF);
        int a = word & 0xFF;
        for (int c = 0; c <= maxCode; c++) {
            float level = (float) (delta * Math.pow(2, -a * c / (4.0 * maxCode)));
            levels[c] = delta > 0 ? Math.max(level, Float.MIN_VALUE) : 0f;
        }
    }

    @Override
    void decodeBlocks(EncodedState s, int from, int len, float[] dst, int d) {
        byte[] codes = new byte[blockSize];
        float[] levels = new float[maxCode + 1];
        for (int k = 0; k < len; k += blockSize) {
            int n = Math.min(blockSize, len - k);
            int element = from + k;
            fillLevels(s.scales[element / blockSize], levels);
            BitPacking.unpack(s.codes, element, n, bits, codes);
            int o = d + k;
            for (int j = 0; j < n; j++) {
                dst[o + j] = levels[codes[j]];
            }
        }
    }
}
