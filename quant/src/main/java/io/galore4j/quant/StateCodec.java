package io.galore4j.quant;

import java.util.List;

/**
 * A block-wise storage format for one Adam moment (docs/design.md §3 "Block-wise state codecs"),
 * chosen by name with {@link #of(String, Moment)}:
 *
 * <table>
 * <caption>codecs</caption>
 * <tr><th>name</th><th>moment</th><th>format</th></tr>
 * <tr><td>fp32</td><td>both</td><td>plain floats</td></tr>
 * <tr><td>dynamic8</td><td>both</td><td>bitsandbytes dynamic map (signed / unsigned), blocks of 256, absmax</td></tr>
 * <tr><td>de4</td><td>first</td><td>4-bit dynamic-exponent map, blocks of 128, absmax</td></tr>
 * <tr><td>linear4nz</td><td>second</td><td>4-bit {1/16 … 1} (no zero), blocks of 128, absmax</td></tr>
 * <tr><td>linear4nz-rank1</td><td>second</td><td>same map, scale_ij = min(max row i, max col j)</td></tr>
 * <tr><td>signed2, signed3</td><td>first</td><td>SOLO signed maps, blocks of 128, absmax</td></tr>
 * <tr><td>log2, log3</td><td>second</td><td>SOLO logarithmic grid, blocks of 128, log-domain stochastic rounding</td></tr>
 * <tr><td>softsign8</td><td>first</td><td>FlashOptim softsign companding, int8, groups of 32</td></tr>
 * <tr><td>sqrt8</td><td>second</td><td>FlashOptim √v in uint8, groups of 32</td></tr>
 * </table>
 *
 * <p>NaN policy: every encoder throws {@link IllegalArgumentException} for a NaN or infinite
 * input (and second-moment codecs for a negative one), naming the codec, the value and its
 * element index, e.g. {@code "dynamic8 encode: non-finite value NaN at index 1234"}. Other
 * blocks may already be overwritten (whole tensors are encoded in runs, in parallel from
 * 2^18 elements on); no code is produced from a bad value.
 *
 * <p>Second-moment codecs never decode a positive value to zero (a zero v makes m/√v
 * explode). Codecs are stateless and thread-safe; a state is not.
 */
public interface StateCodec {
    /** Tensors with fewer elements keep fp32 states (bitsandbytes' rule); the optimizer applies it. */
    int MIN_QUANTIZED_ELEMENTS = 4096;

    /** Whether a tensor of this many elements should use a quantized codec at all. */
    static boolean quantizes(long elements) {
        return elements >= MIN_QUANTIZED_ELEMENTS;
    }

    /**
     * The codec {@code name} for {@code moment}.
     *
     * @throws IllegalArgumentException for an unknown name or a codec that does not store that moment
     */
    static StateCodec of(String name, Moment moment) {
        return StateCodecs.of(name, moment);
    }

    /** The codec {@code name} of {@code moment}. */
    static StateCodec of(CodecName name, Moment moment) {
        return StateCodecs.of(EnumKeys.key(name), moment);
    }

    /** Names accepted by {@link #of(String, Moment)} for this moment. */
    static List<String> names(Moment moment) {
        return StateCodecs.names(moment);
    }

    String name();

    Moment moment();

    /** Bits per stored code (32 for fp32). */
    int bits();

    /**
     * Elements per scale block; ranges passed to {@link #encodeRange}/{@link #decodeRange} start
     * at multiples of it. 0 for {@code linear4nz-rank1}, which has no blocks.
     */
    int blockSize();

    /** Whether {@link #encodeRange}/{@link #decodeRange} accept partial ranges (false only for rank-1 scaling). */
    boolean supportsRanges();

    /**
     * Whether encoding draws from the {@link RoundingRng} (stochastic rounding: the log codecs), so
     * the result depends on the order of the calls; the other codecs encode each block alone.
     */
    default boolean stochastic() {
        return false;
    }

    /** A rows × cols state that decodes to all zeros. */
    EncodedState allocate(int rows, int cols);

    /**
     * Bytes of the codes of {@code elements} elements: packed ⌈n·bits/8⌉, or 4 per element for
     * fp32. With {@link #scaleBytes} the exact {@code allocate(rows, cols).bytes()}, without allocating.
     */
    default long codeBytes(long elements) {
        return (elements * bits() + 7) / 8;
    }

    /**
     * Bytes of the scales of a rows × cols state: 4 per block (absmax in fp32), 2 per group for the
     * bf16-scaled FlashOptim codecs, 4·(rows + cols) for rank-1 scaling, 0 for fp32.
     */
    default long scaleBytes(long rows, long cols) {
        return 4 * ((rows * cols + blockSize() - 1) / blockSize());
    }

    /** Encodes {@code src[srcOff .. srcOff + dst.length())} into dst. rng drives stochastic rounding (log codecs; null = nearest). */
    default void encode(float[] src, int srcOff, EncodedState dst, RoundingRng rng) {
        encodeRange(src, srcOff, dst, 0, dst.length(), rng);
    }

    /** Decodes all of src into {@code dst[dstOff .. dstOff + src.length())}. */
    default void decode(EncodedState src, float[] dst, int dstOff) {
        decodeRange(src, 0, src.length(), dst, dstOff);
    }

    /**
     * Encodes state elements [from, from + len) from {@code src[srcOff ..]}. {@code from} must be a
     * multiple of {@link #blockSize()} and {@code len} too unless the range ends the tensor.
     */
    void encodeRange(float[] src, int srcOff, EncodedState dst, int from, int len, RoundingRng rng);

    /** Decodes state elements [from, from + len) into {@code dst[dstOff ..]}; same range rules. */
    void decodeRange(EncodedState src, int from, int len, float[] dst, int dstOff);
}
