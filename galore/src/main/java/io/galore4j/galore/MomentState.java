package io.galore4j.galore;

import io.galore4j.quant.CodecName;
import io.galore4j.quant.EncodedState;
import io.galore4j.quant.Moment;
import io.galore4j.quant.RoundingRng;
import io.galore4j.quant.StateCodec;
import java.nio.Buffer;
import java.util.Map;

/**
 * One optimizer moment of one parameter (Adam's m or v, SGD's or Lion's momentum) stored through
 * a quant {@link StateCodec}. Tensors under {@link StateCodec#MIN_QUANTIZED_ELEMENTS} elements
 * keep fp32 states (bitsandbytes' rule, docs/design.md §3). Codecs with rank-1 scaling cannot
 * encode partial ranges: their moment is decoded and encoded whole ({@link #ranged()} false).
 */
final class MomentState {
    private final StateCodec codec;
    private final EncodedState state;

    MomentState(CodecName codecName, Moment moment, int rows, int cols) {
        this.codec = effectiveCodec(codecName, moment, (long) rows * cols);
        this.state = codec.allocate(rows, cols);
    }

    static StateCodec effectiveCodec(CodecName codecName, Moment moment, long elements) {
        return StateCodec.of(StateCodec.quantizes(elements) ? codecName : CodecName.FP32, moment);
    }

    boolean ranged() {
        return codec.supportsRanges();
    }

    /** Whether writing draws random numbers (then chunks must be written in order). */
    boolean stochastic() {
        return codec.stochastic();
    }

    int length() {
        return state.length();
    }

    /** Decodes [from, from + len) into dst[0 ..]; the whole tensor through the codec's (parallel) whole-tensor path. */
    void read(int from, int len, float[] dst) {
        if (from == 0 && len == state.length()) {
            codec.decode(state, dst, 0);
        } else {
            codec.decodeRange(state, from, len, dst, 0);
        }
    }

    /** Encodes src[0 .. len) into [from, from + len); the whole tensor as {@link #read}. */
    void write(int from, int len, float[] src, RoundingRng rng) {
        if (from == 0 && len == state.length()) {
            codec.encode(src, 0, state, rng);
        } else {
            codec.encodeRange(src, 0, state, from, len, rng);
        }
    }

    /** The encoded state as named read-only buffers (see {@link EncodedState#parts()}). */
    Map<String, Buffer> parts() {
        return state.parts();
    }

    /** Restores one part saved from a state of the same codec and shape. */
    void load(String part, Buffer saved) {
        state.load(part, saved);
    }

    String codecName() {
        return codec.name();
    }

    /** Bytes of the codes (or fp32 values). */
    long codeBytes() {
        return codec.codeBytes(state.length());
    }

    /** Bytes of the scales (block, group or rank-1 row/column scales). */
    long scaleBytes() {
        return state.bytes() - codeBytes();
    }

    /**
     * {codes, scales} bytes of a rows×cols state of this codec, without allocating (the formulas
     * are the codec's: {@link StateCodec#codeBytes}, {@link StateCodec#scaleBytes}). Checked
     * against {@code allocate(rows, cols).bytes()} for every codec by the tests.
     */
    static long[] estimate(CodecName codecName, Moment moment, long rows, long cols) {
        StateCodec c = effectiveCodec(codecName, moment, rows * cols);
        return new long[] {c.codeBytes(rows * cols), c.scaleBytes(rows, cols)};
    }
}
