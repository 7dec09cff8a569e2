package io.galore4j.quant;

/**
 * Block-wise absmax codec over a fixed code map (docs/design.md §3): per block of {@code blockSize}
 * elements the scale s = max |x|, each element becomes the index of the map level nearest to
 * x / s, decoded as level · s. Serves dynamic8 (bitsandbytes signed/unsigned maps, 8 bits),
 * de4 and linear4nz (4 bits), signed2 and signed3 (SOLO, 2 and 3 bits). Codes below 8 bits
 * are packed by {@link BitPacking} (4-bit codes directly, in its layout). A block with s = 0 (including a fresh state) decodes to
 * zeros. For the second moment, a positive value whose nearest level is 0 gets the smallest
 * positive level instead, so no positive v decodes to zero.
 */
final class MapCodec extends BlockCodec {
    private final NearestCode nearest;
    private final float[] levels;
    private final int zeroCode; // index of level 0, or -1 when the map has none

    MapCodec(String name, Moment moment, float[] map, int bits, int blockSize) {
        super(name, moment, bits, blockSize);
        if (map.length != 1 << bits) {
            throw new IllegalArgumentException(name + ": map of " + map.length + " levels for " + bits + " bits");
        }
        this.nearest = new NearestCode(map);
        this.levels = map.clone();
        int z = -1;
        for (int k = 0; k < map.length; k++) {
            if (map[k] == 0f) {
                z = k;
            }
        }
        this.zeroCode = moment == Moment.SECOND ? z : -1;
    }

    /** The map's levels in code order (for tests). */
    float[] levels() {
        return levels.clone();
    }

    @Override
    EncodedState newState(int rows, int cols, int length) {
        int blocks = (int) (((long) length + blockSize - 1) / blockSize);
        return new EncodedState(name, rows, cols, null, new byte[BitPacking.bytes(bits, length)],
                new float[blocks], null, null, null);
    }

    @Override
    void encodeBlocks(float[] src, int p, EncodedState s, int from, int len, RoundingRng rng) {
        byte[] codes = s.codes;
        byte[] scratch = bits == 8 || bits == 4 ? null : new byte[blockSize];
        for (int k = 0; k < len; k += blockSize) {
            int n = Math.min(blockSize, len - k);
            int element = from + k;
            int q = p + k;
            float scale = absMax(src, q, n, element);
            s.scales[element / blockSize] = scale;
            float inv = scale > 0 ? 1f / scale : 0f;
            if (bits == 8) {
                nearest.indices(src, q, n, inv, zeroCode, codes, element);
            } else if (bits == 4) {
                nearest.indices4(src, q, n, inv, zeroCode, codes, element >>> 1);
            } else {
                for (int j = 0; j < n; j++) {
                    scratch[j] = (byte) code(src[q + j], inv);
                }
                BitPacking.pack(scratch, n, bits, codes, element);
            }
        }
    }

    /** Code of x in a block with 1/scale = inv; a positive second moment never gets the zero level. */
    private int code(float x, float inv) {
        int c = nearest.index(x * inv);
        return c == zeroCode && x > 0 ? c + 1 : c;
    }

    @Override
    void decodeBlocks(EncodedState s, int from, int len, float[] dst, int d) {
        byte[] codes = s.codes;
        byte[] scratch = bits == 8 || bits == 4 ? null : new byte[blockSize];
        float[] map = levels;
        for (int k = 0; k < len; k += blockSize) {
            int n = Math.min(blockSize, len - k);
            int element = from + k;
            float scale = s.scales[element / blockSize];
            int o = d + k;
            if (bits == 8) {
                for (int j = 0; j < n; j++) {
                    dst[o + j] = map[codes[element + j] & 0xFF] * scale;
                }
            } else if (bits == 4) {
                int b = element >>> 1;
                int pairs = n >>> 1;
                for (int i = 0; i < pairs; i++) {
                    int c = codes[b + i];
                    dst[o + 2 * i] = map[c & 0xF] * scale;
                    dst[o + 2 * i + 1] = map[(c >>> 4) & 0xF] * scale;
                }
                if ((n & 1) != 0) {
                    dst[o + n - 1] = map[codes[b + pairs] & 0xF] * scale;
                }
            } else {
                BitPacking.unpack(codes, element, n, bits, scratch);
                for (int j = 0; j < n; j++) {
                    dst[o + j] = map[scratch[j] & 0xFF] * scale;
                }
            }
        }
    }
}
