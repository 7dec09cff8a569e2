package io.galore4j.galore;

import io.galore4j.quant.EnumKeys;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Every preset's settings as text: the optim section it resolves to (each value with its Java
 * type) and the effective settings of a parameter of each kind (every field of
 * {@link ParamSettings}). Recorded from the presets as the code built them before they became
 * files (presets-before.txt), so the files are checked to resolve to exactly the same settings.
 */
final class PresetRecord {
    /** A parameter of each kind on the micro model: projections (square and not), embedding, norm, head. */
    static final Map<String, long[]> PARAMS = new java.util.LinkedHashMap<>();

    static {
        PARAMS.put("model.layers.0.self_attn.q_proj.weight", new long[] {256, 256});
        PARAMS.put("model.layers.0.mlp.down_proj.weight", new long[] {256, 688});
        PARAMS.put("model.embed_tokens.weight", new long[] {256, 256});
        PARAMS.put("model.norm.weight", new long[] {256});
        PARAMS.put("lm_head.weight", new long[] {256, 256});
    }

    private PresetRecord() {
    }

    static List<String> lines(String method) {
        List<String> out = new ArrayList<>();
        OptimSettings s = OptimSettings.preset(method);
        StringBuilder g = new StringBuilder();
        s.toMap().forEach((k, v) -> g.append(k).append('=').append(v)
                .append(v == null ? "" : "(" + v.getClass().getSimpleName() + ")").append(' '));
        out.add(method + "\toptim\t" + g.toString().strip());
        for (Map.Entry<String, long[]> p : PARAMS.entrySet()) {
            ParamSettings ps = s.resolve(p.getKey(), p.getValue());
            StringBuilder b = new StringBuilder();
            for (RecordComponent c : ParamSettings.class.getRecordComponents()) {
                Object v;
                try {
                    v = c.getAccessor().invoke(ps);
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
                if (c.getName().equals("residual") && v == Residual.NONE || c.getName().equals("scaling") && v == Scaling.NONE) {
                    continue; // fields added after the record, at the value every earlier preset had
                }
                if (v instanceof Map<?, ?> m) {
                    Map<String, String> sorted = new TreeMap<>();
                    m.forEach((k, x) -> sorted.put(String.valueOf(k), String.valueOf(x)));
                    v = sorted;
                }
                b.append(c.getName()).append('=').append(v instanceof Enum<?> e ? EnumKeys.key(e) : v).append(' ');
            }
            out.add(method + "\t" + p.getKey() + "\t" + b.toString().strip());
            out.add(method + "\t" + p.getKey() + ".toMap\t" + ps.toMap());
        }
        return out;
    }
}
