package io.galore4j.quant;

/** Plain fp32 storage: 4 bytes per element, exact. */
final class Fp32Codec extends BlockCodec {
    Fp32Codec(Moment moment) {
        super("fp32", moment, 32, 1);
    }

    @Override
    EncodedState newState(int rows, int cols, int length) {
        return new EncodedState(name, rows, cols, new float[length], null, null, null, null, null);
    }

    @Override
    public long scaleBytes(long rows, long cols) {
        return 0;
    }

    @Override
    void encodeBlocks(float[] src, int p, EncodedState s, int from, int len, RoundingRng rng) {
        absMax(src, p, len, from); // NaN / sign checks
        System.arraycopy(src, p, s.values, from, len);
    }

    @Override
    void decodeBlocks(EncodedState s, int from, int len, float[] dst, int d) {
        System.arraycopy(s.values, from, dst, d, len);
    }
}
