package io.galore4j.quant;

/**
 * Block-wise absmax codec over a fixed code map (DESIGN.md §3): per block of {@code blockSize}
 * elements the scale s = max |x|, each element becomes the index of the map level nearest to
 * x / s, decoded as level · s. Serves dynamic8 (bitsandbytes signed/unsigned maps, 8 bits),
 * de4 and linear4nz (4 bits), signed2 and signed3 (SOLO, 2 and 3 bits). Codes below 8 bits
 * are packed by {@link BitPacking}. A block with s = 0 (including a fresh state) decodes to
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
        byte[] scratch = bits == 8 ? null : new byte[blockSize];
        for (int k = 0; k < len; k += blockSize) {
            int n = Math.min(blockSize, len - k);
            int element = from + k;
            float scale = absMax(src, p + k, n, element);
            s.scales[element / blockSize] = scale;
            float inv = scale > 0 ? 1f / scale : 0f;
            byte[] out = bits == 8 ? s.codes : scratch;
            int o = bits == 8 ? element : 0;
            int q = p + k;
            if (zeroCode < 0) {
                for (int j = 0; j < n; j++) {
                    out[o + j] = (byte) nearest.index(src[q + j] * inv);
                }
            } else {
                for (int j = 0; j < n; j++) {
                    float x = src[q + j];
                    int c = nearest.index(x * inv);
                    out[o + j] = (byte) (c == zeroCode && x > 0 ? c + 1 : c);
                }
            }
            if (bits != 8) {
                BitPacking.pack(scratch, n, bits, s.codes, element);
            }
        }
    }

    @Override
    void decodeBlocks(EncodedState s, int from, int len, float[] dst, int d) {
        byte[] scratch = bits == 8 ? null : new byte[blockSize];
        float[] map = levels;
        for (int k = 0; k < len; k += blockSize) {
            int n = Math.min(blockSize, len - k);
            int element = from + k;
            float scale = s.scales[element / blockSize];
            byte[] in = s.codes;
            int i = element;
            if (bits != 8) {
                BitPacking.unpack(s.codes, element, n, bits, scratch);
                in = scratch;
                i = 0;
            }
            int o = d + k;
            for (int j = 0; j < n; j++) {
                dst[o + j] = map[in[i + j] & 0xFF] * scale;
            }
        }
    }
}
