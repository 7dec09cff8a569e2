package io.galore4j.quant;

/**
 * linear4nz with rank-1 scaling (Li, Chen and Zhu 2023, DESIGN.md §3): for a rows × cols second
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

    @Override
    void encodeBlocks(float[] src, int p, EncodedState s, int from, int len, RoundingRng rng) {
        requireWhole(s, from, len);
        int rows = s.rows();
        int cols = s.cols();
        float[] rowMax = s.rowScales;
        float[] colMax = s.colScales;
        java.util.Arrays.fill(colMax, 0f);
        for (int i = 0; i < rows; i++) {
            int base = p + i * cols;
            rowMax[i] = absMax(src, base, cols, i * cols);
            for (int j = 0; j < cols; j++) {
                colMax[j] = Math.max(colMax[j], src[base + j]);
            }
        }
        float[] invCol = new float[cols];
        for (int j = 0; j < cols; j++) {
            invCol[j] = colMax[j] > 0 ? 1f / colMax[j] : 0f;
        }
        byte[] codes = s.codes;
        int i = 0;
        int j = 0;
        float invRow = inverse(rows > 0 ? rowMax[0] : 0f);
        int low = 0;
        for (int idx = 0; idx < len; idx++) {
            // 1 / min(r, c) = max(1/r, 1/c); level (k+1)/16 nearest to y: k = round(16 y) − 1, clipped
            float y = src[p + idx] * Math.max(invRow, invCol[j]);
            int k = Math.min(15, Math.max(0, (int) (y * 16f + 0.5f) - 1));
            if ((idx & 1) == 0) {
                low = k;
            } else {
                codes[idx >>> 1] = (byte) (low | (k << 4));
            }
            if (++j == cols) {
                j = 0;
                i++;
                invRow = inverse(i < rows ? rowMax[i] : 0f);
            }
        }
        if ((len & 1) != 0) {
            codes[len >>> 1] = (byte) low;
        }
    }

    private static float inverse(float max) {
        return max > 0 ? 1f / max : 0f;
    }

    @Override
    void decodeBlocks(EncodedState s, int from, int len, float[] dst, int d) {
        requireWhole(s, from, len);
        int rows = s.rows();
        int cols = s.cols();
        byte[] codes = s.codes;
        float[] colScales = s.colScales;
        int i = 0;
        int j = 0;
        float r = rows > 0 ? s.rowScales[0] : 0f;
        for (int idx = 0; idx < len; idx++) {
            int k = (codes[idx >>> 1] >>> ((idx & 1) << 2)) & 0xF;
            dst[d + idx] = (k + 1) * (1f / 16f) * Math.min(r, colScales[j]);
            if (++j == cols) {
                j = 0;
                i++;
                r = i < rows ? s.rowScales[i] : 0f;
            }
        }
    }
}
