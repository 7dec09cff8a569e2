package io.galore4j.quant;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The registry behind {@link StateCodec#of(String, Moment)}. */
final class StateCodecs {
    private static final Map<String, StateCodec> FIRST = new LinkedHashMap<>();
    private static final Map<String, StateCodec> SECOND = new LinkedHashMap<>();

    static {
        FIRST.put("fp32", new Fp32Codec(Moment.FIRST));
        SECOND.put("fp32", new Fp32Codec(Moment.SECOND));
        FIRST.put("dynamic8", new MapCodec("dynamic8", Moment.FIRST, CodeMaps.dynamic8(true), 8, 256));
        SECOND.put("dynamic8", new MapCodec("dynamic8", Moment.SECOND, CodeMaps.dynamic8(false), 8, 256));
        FIRST.put("de4", new MapCodec("de4", Moment.FIRST, CodeMaps.de4(), 4, 128));
        SECOND.put("linear4nz", new MapCodec("linear4nz", Moment.SECOND, CodeMaps.linear4NoZero(), 4, 128));
        SECOND.put("linear4nz-rank1", new Rank1Linear4Codec());
        FIRST.put("signed2", new MapCodec("signed2", Moment.FIRST, CodeMaps.signed2(), 2, 128));
        FIRST.put("signed3", new MapCodec("signed3", Moment.FIRST, CodeMaps.signed3(), 3, 128));
        SECOND.put("log2", new LogCodec(2));
        SECOND.put("log3", new LogCodec(3));
        FIRST.put("softsign8", new CompandedCodec(Moment.FIRST));
        SECOND.put("sqrt8", new CompandedCodec(Moment.SECOND));
    }

    private StateCodecs() {
    }

    static StateCodec of(String name, Moment moment) {
        if (moment == null) {
            throw new IllegalArgumentException("moment must not be null (codec '" + name + "')");
        }
        StateCodec codec = (moment == Moment.FIRST ? FIRST : SECOND).get(name);
        if (codec != null) {
            return codec;
        }
        Moment other = moment == Moment.FIRST ? Moment.SECOND : Moment.FIRST;
        if ((other == Moment.FIRST ? FIRST : SECOND).containsKey(name)) {
            throw new IllegalArgumentException("state codec '" + name + "' stores the " + other
                    + " moment, not the " + moment + " moment; " + moment + " codecs: " + names(moment));
        }
        throw new IllegalArgumentException("unknown state codec '" + name + "' for the " + moment
                + " moment; known: " + names(moment));
    }

    static List<String> names(Moment moment) {
        return new ArrayList<>((moment == Moment.FIRST ? FIRST : SECOND).keySet());
    }
}
