package io.galore4j.quant;

/**
 * linear4nz with rank-1 scaling (Li, Chen and Zhu 2023, docs/design.md §3): for a rows × cols second
 * moment, element (i, j) has scale min(max_j' v[i][j'], max_i' v[i'][j]) (row-major storage)
 * and code k ∈ 0…15 for level (k + 1)/16, the nearest to v / scale. The map has no zero
 * (a zero code makes m/√v explode): a zero element decodes to scale/16, and only a row or
 * column of zeros (scale 0) decodes to 0. Needs the whole tensor for its row and column
 * maxima, so it encodes and decodes whole tensors only ({@link #supportsRanges()} is false).
 * Storage: 4-bit codes plus 4·(rows + cols) bytes.
 */
final class Rank1Linear4Codec extends BlockCodec {
    Rank1Linear4Codec() {
        super("linear4nz-rank1", Moment.SECOND, 4, 0);
    }

    @Override
    public boolean supportsRanges() {
        return false;
    }

    @Override
    public long scaleBytes(long rows, long cols) {
        return 4 * (rows + cols);
    }

    @Override
    EncodedState newState(int rows, int cols, int length) {
        return new EncodedState(name, rows, cols, null, new byte[BitPacking.bytes(4, length)], null, null,
                new float[rows], new float[cols]);
    }

    private void requireWhole(EncodedState s, int from, int len) {
        if (from != 0 || len != s.length()) {
            throw new IllegalArgumentException(name + ": rank-1 scaling encodes and decodes whole tensors only, got range ["
                    + from + ", " + (from + len) + ") of " + s.length());
        }
    }

    /**
     * Rows per parallel run of a rows × cols tensor: about {@value BlockCodec#PARALLEL_RUN}
     * elements, and even when cols is odd, so every run starts on a whole byte of codes.
     */
    private static int rowsPerRun(int cols) {
        int r = Math.max(1, PARALLEL_RUN / Math.max(1, cols));
        return (cols & 1) != 0 && (r & 1) != 0 ? r + 1 : r;
    }

    private static boolean parallel(EncodedState s) {
        return s.length() >= PARALLEL_MIN_ELEMENTS;
    }

    @Override
    void encodeBlocks(float[] src, int p, EncodedState s, int from, int len, RoundingRng rng) {
        requireWhole(s, from, len);
        int rows = s.rows();
        int cols = s.cols();
        float[] rowMax = s.rowScales;
        float[] colMax = s.colScales;
        java.util.Arrays.fill(colMax, 0f);
        int step = rowsPerRun(cols);
        // row and column maxima in one read; each run keeps its own column maxima, merged below
        // (max is exact in any order). A row with a non-finite or negative value is reported
        // before any column maximum is used.
        ParallelRuns.forEach(rows, step, parallel(s), (r0, nr) -> {
            float[] col = new float[cols];
            float[] x = new float[cols];
            for (int i = r0; i < r0 + nr; i++) {
                int base = p + i * cols;
                System.arraycopy(src, base, x, 0, cols); // offset 0 with col: C2 vectorizes both loops
                float hi = 0f;
                float lo = 0f;
                for (int j = 0; j < cols; j++) {
                    hi = Math.max(hi, x[j]);
                    lo = Math.min(lo, x[j]);
                }
                if (!(hi < Float.POSITIVE_INFINITY) || lo < 0) {
                    throw badValue(src, base, cols, i * cols);
                }
                for (int j = 0; j < cols; j++) {
                    col[j] = Math.max(col[j], x[j]);
                }
                rowMax[i] = hi;
            }
            synchronized (colMax) {
                for (int j = 0; j < cols; j++) {
                    colMax[j] = Math.max(colMax[j], col[j]);
                }
            }
        });
        float[] invCol = new float[cols];
        for (int j = 0; j < cols; j++) {
            invCol[j] = inverse(colMax[j]);
        }
        byte[] codes = s.codes;
        ParallelRuns.forEach(rows, step, parallel(s), (r0, nr) -> {
            float[] x = new float[cols];
            float[] inv = new float[cols];
            int[] c = new int[cols];
            for (int i = r0; i < r0 + nr; i++) {
                encodeRow(src, p, i, cols, inverse(rowMax[i]), invCol, x, inv, c, codes);
            }
        });
    }

    /**
     * Codes of row i: level (k+1)/16 nearest to y = v/min(r, c) is k = rint(16 y − 1) clipped
     * to 0…15 (ties to even). 1/min(r, c) = max(1/r, 1/c); inv holds 16/min(r, c) (×16 is exact,
     * and so is 16 y − 1 wherever it is not clipped to 0). The row is copied to offset 0 so C2
     * vectorizes the arithmetic, which rounds by {@link MagicRound}; only the packing is scalar.
     */
    private static void encodeRow(float[] src, int p, int i, int cols, float invRow, float[] invCol, float[] x,
                                  float[] inv, int[] c, byte[] codes) {
        int base = i * cols; // element index of (i, 0); code e in nibble e & 1 of byte e >>> 1
        System.arraycopy(src, p + base, x, 0, cols);
        for (int j = 0; j < cols; j++) {
            inv[j] = 16f * Math.max(invRow, invCol[j]);
        }
        // two loops: C2 vectorizes float Math.min/max only in a loop without the bit move
        for (int j = 0; j < cols; j++) {
            inv[j] = Math.min(15f, Math.max(0f, x[j] * inv[j] - 1f)) + MagicRound.MAGIC;
        }
        for (int j = 0; j < cols; j++) {
            c[j] = Float.floatToRawIntBits(inv[j]) - MagicRound.BITS;
        }
        int j = 0;
        if ((base & 1) != 0 && cols > 0) { // high nibble of a byte the previous row began
            codes[base >>> 1] = (byte) ((codes[base >>> 1] & 0xF) | (c[0] << 4));
            j = 1;
        }
        int b = (base + j) >>> 1;
        int pairs = (cols - j) >>> 1;
        for (int t = 0; t < pairs; t++) {
            codes[b + t] = (byte) (c[j + 2 * t] | (c[j + 2 * t + 1] << 4));
        }
        if (j + 2 * pairs < cols) { // low nibble; the next row (or nothing) writes the high one
            codes[b + pairs] = (byte) c[cols - 1];
        }
    }

    private static float inverse(float max) {
        return max > 0 ? 1f / max : 0f;
    }

    @Override
    void decodeBlocks(EncodedState s, int from, int len, float[] dst, int d) {
        requireWhole(s, from, len);
        int cols = s.cols();
        ParallelRuns.forEach(s.rows(), rowsPerRun(cols), parallel(s), (r0, nr) -> {
            float[] scale = new float[cols];
            for (int i = r0; i < r0 + nr; i++) {
                decodeRow(s, i, cols, scale, dst, d);
            }
        });
    }

    private static void decodeRow(EncodedState s, int i, int cols, float[] scale, float[] dst, int d) {
        byte[] codes = s.codes;
        float[] colScales = s.colScales;
        float r = s.rowScales[i];
        for (int j = 0; j < cols; j++) {
            scale[j] = Math.min(r, colScales[j]);
        }
        int base = i * cols;
        int o = d + base;
        int j = 0;
        if ((base & 1) != 0 && cols > 0) {
            dst[o] = level((codes[base >>> 1] >>> 4) & 0xF) * scale[0];
            j = 1;
        }
        int b = (base + j) >>> 1;
        int pairs = (cols - j) >>> 1;
        for (int t = 0; t < pairs; t++) {
            int c = codes[b + t];
            dst[o + j + 2 * t] = level(c & 0xF) * scale[j + 2 * t];
            dst[o + j + 2 * t + 1] = level((c >>> 4) & 0xF) * scale[j + 2 * t + 1];
        }
        if (j + 2 * pairs < cols) {
            dst[o + cols - 1] = level(codes[b + pairs] & 0xF) * scale[cols - 1];
        }
    }

    /** Level (k + 1)/16 of code k (exact in float). */
    private static float level(int k) {
        return (k + 1) * (1f / 16f);
    }
}
