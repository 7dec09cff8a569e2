package io.galore4j.quant;

import java.util.Arrays;
import java.util.List;

/**
 * The names of the moment codecs ({@link StateCodec#of(CodecName, Moment)}); each stores the first
 * moment, the second, or both ({@link #stores}). Settings and checkpoints name them as
 * {@link EnumKeys} says ({@code linear4nz-rank1}).
 */
public enum CodecName {
    FP32, DYNAMIC8, DE4, LINEAR4NZ, LINEAR4NZ_RANK1, SIGNED2, SIGNED3, LOG2, LOG3, SOFTSIGN8, SQRT8;

    /** Whether a codec of this name stores {@code moment}. */
    public boolean stores(Moment moment) {
        return StateCodecs.names(moment).contains(EnumKeys.key(this));
    }

    /** The names of the codecs of {@code moment}. */
    public static List<CodecName> of(Moment moment) {
        return Arrays.stream(values()).filter(c -> c.stores(moment)).toList();
    }
}
