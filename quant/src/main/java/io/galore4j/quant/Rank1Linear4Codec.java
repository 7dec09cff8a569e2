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
        for (int i = 0; i < rows; i++) {
            float invRow = rowMax[i] > 0 ? 1f / rowMax[i] : 0f;
            int base = p + i * cols;
            int e = i * cols;
            for (int j = 0; j < cols; j++) {
                // 1 / min(r, c) = max(1/r, 1/c); level (k+1)/16 nearest to y: k = round(16 y) − 1, clipped
                float y = src[base + j] * Math.max(invRow, invCol[j]);
                int k = Math.min(15, Math.max(0, (int) (y * 16f + 0.5f) - 1));
                int idx = e + j;
                int b = idx >>> 1;
                if ((idx & 1) == 0) {
                    codes[b] = (byte) ((codes[b] & 0xF0) | k);
                } else {
                    codes[b] = (byte) ((codes[b] & 0x0F) | (k << 4));
                }
            }
        }
    }

    @Override
    void decodeBlocks(EncodedState s, int from, int len, float[] dst, int d) {
        requireWhole(s, from, len);
        int rows = s.rows();
        int cols = s.cols();
        byte[] codes = s.codes;
        for (int i = 0; i < rows; i++) {
            float r = s.rowScales[i];
            for (int j = 0; j < cols; j++) {
                int idx = i * cols + j;
                int k = (codes[idx >>> 1] >>> ((idx & 1) << 2)) & 0xF;
                dst[d + idx] = (k + 1) * (1f / 16f) * Math.min(r, s.colScales[j]);
            }
        }
    }
}
