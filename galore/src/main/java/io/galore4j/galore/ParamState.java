package io.galore4j.galore;

import io.galore4j.quant.RoundingRng;
import io.galore4j.projection.SubspaceStats;
import java.nio.Buffer;
import java.util.LinkedHashMap;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.ndarray.INDArray;

/** One parameter inside the optimizer: its weight, its optimizer state and its step count t. */
abstract class ParamState {
    final String name;
    final long[] shape;
    final ParamSettings settings;
    final WeightStore weight;
    /** Updates applied so far (Adam's t after the update is t + 1). */
    long steps;
    /** Whether a gradient of the current step was seen (accumulate or update). */
    boolean seenThisStep;
    /** The first moment (Adam's m, SGD's and Lion's momentum); set by the subclass's constructor. */
    MomentState m;
    /** The second moment, or null for SGD and Lion; set by the subclass's constructor. */
    MomentState v;
    /** Accumulated micro-batch gradients (full or projected), allocated on first use. */
    Accumulation acc;
    /** The data-parallel exchange (docs/design.md §3.9), or null in a single process. */
    Exchange exchange;
    /**
     * Data parallel: a micro-batch of this step was not finite on this replica, so this replica's
     * contribution to the step's sum is NaN and every replica rejects the update.
     */
    boolean poisoned;

    ParamState(String name, long[] shape, ParamSettings settings, WeightStore weight) {
        this.name = name;
        this.shape = shape;
        this.settings = settings;
        this.weight = weight;
    }

    /** Adds a non-final micro-batch's gradient. */
    abstract void accumulate(INDArray grad, RoundingRng rng, List<SubspaceStats> events);

    /** Final micro-batch: updates the weight from (grad + accumulated) × gradScale. */
    abstract void update(INDArray grad, double lr, double gradScale, RoundingRng rng, List<SubspaceStats> events);

    /**
     * This parameter's bytes by component: the stored weight with its scales, the moments (v may be
     * null), the accumulation buffer (if any), the gradient buffer, and {@link #basisBytes}.
     */
    final MemoryAccount.Row account() {
        Map<MemoryAccount.Component, Long> bytes = new EnumMap<>(MemoryAccount.Component.class);
        bytes.put(MemoryAccount.Component.WEIGHT, weight.valueBytes());
        bytes.put(MemoryAccount.Component.WEIGHT_SCALES, weight.scaleBytes());
        bytes.put(MemoryAccount.Component.BASIS, basisBytes());
        bytes.put(MemoryAccount.Component.M, m.codeBytes());
        bytes.put(MemoryAccount.Component.M_SCALES, m.scaleBytes());
        if (v != null) {
            bytes.put(MemoryAccount.Component.V, v.codeBytes());
            bytes.put(MemoryAccount.Component.V_SCALES, v.scaleBytes());
        }
        if (acc != null) {
            bytes.put(MemoryAccount.Component.ACCUMULATION, acc.bytes());
        }
        bytes.put(MemoryAccount.Component.GRADIENT, 4L * weight.length());
        return new MemoryAccount.Row(name, weight.length(), bytes);
    }

    /** Bytes of the stored projection basis (GaLore); 0 for a parameter without one. */
    long basisBytes() {
        return 0;
    }

    /** Zeroes the accumulated micro-batch gradients, if any. */
    final void discardAccumulation() {
        if (acc != null) {
            acc.clear();
        }
        poisoned = false;
    }

    /**
     * Adds a micro-batch's (full or projected) gradient to the accumulation. In a single process a
     * non-finite sum throws; with replicas it marks this replica's contribution {@link #poisoned}
     * instead, so the update every replica makes rejects it on all of them.
     */
    final void addToAccumulation(String what, java.nio.FloatBuffer g, int gOff, int n) {
        try {
            acc = Accumulation.add(acc, settings.accumulation(), what, g, gOff, n);
        } catch (IllegalArgumentException e) {
            if (exchange == null) {
                throw e;
            }
            poisoned = true;
        }
    }

    /**
     * g ← (g + a) × gradScale over the parameter's elements from absolute index {@code gOff}, in
     * pieces of {@code chunk.length} ({@code a} may be null; {@code chunk} and {@code scratch} are
     * the caller's buffers of one size). For the updates that need the step's whole gradient in the
     * gradient buffer (APOLLO, Fira).
     */
    final void fold(java.nio.FloatBuffer g, int gOff, Accumulation a, double gradScale, float[] chunk, float[] scratch) {
        int n = weight.length();
        for (int start = 0; start < n; start += chunk.length) {
            int len = Math.min(chunk.length, n - start);
            g.get(gOff + start, chunk, 0, len);
            if (a != null) {
                a.read(start, len, scratch);
                for (int i = 0; i < len; i++) {
                    chunk[i] += scratch[i];
                }
            }
            for (int i = 0; i < len; i++) {
                chunk[i] *= (float) gradScale;
            }
            g.put(gOff + start, chunk, 0, len);
        }
    }

    final MomentState firstMoment() {
        return m;
    }

    final MomentState secondMoment() {
        return v;
    }

    /**
     * Saves this parameter's tensors under {@code name + "/" + group + "." + part} (groups
     * {@code weight}, {@code m}, {@code v}, and {@code basis} for GaLore) and returns its scalars.
     * Called between steps, when no accumulated gradient is pending.
     */
    Map<String, Object> save(OptimizerState.Sink sink) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("steps", steps);
        s.put("weights", weight.kind());
        s.put("m_codec", firstMoment().codecName());
        s.put("v_codec", secondMoment() == null ? null : secondMoment().codecName());
        put(sink, "weight", weight.parts());
        put(sink, "m", firstMoment().parts());
        if (secondMoment() != null) {
            put(sink, "v", secondMoment().parts());
        }
        return s;
    }

    /**
     * Restores what {@link #save} wrote; adds every tensor name it read to {@code used}.
     * IllegalArgumentException (naming the parameter) for a state of another storage, codec or
     * shape.
     */
    void load(Map<String, ?> s, OptimizerState.Source source, Set<String> used) {
        expect(s, "weights", weight.kind());
        expect(s, "m_codec", firstMoment().codecName());
        expect(s, "v_codec", secondMoment() == null ? null : secondMoment().codecName());
        if (!(s.get("steps") instanceof Number n) || n.longValue() < 0) {
            throw new IllegalArgumentException("steps must be an integer >= 0, got " + s.get("steps"));
        }
        weight.load(get(source, "weight", weight.parts().keySet(), used));
        loadMoment(firstMoment(), "m", source, used);
        if (secondMoment() != null) {
            loadMoment(secondMoment(), "v", source, used);
        }
        steps = n.longValue();
    }

    private void loadMoment(MomentState state, String group, OptimizerState.Source source, Set<String> used) {
        for (Map.Entry<String, Buffer> e : get(source, group, state.parts().keySet(), used).entrySet()) {
            state.load(e.getKey(), e.getValue());
        }
    }

    static void expect(Map<String, ?> s, String key, Object want) {
        if (!java.util.Objects.equals(s.get(key), want)) {
            throw new IllegalArgumentException(key + " is " + s.get(key) + " in the checkpoint but " + want
                    + " in this configuration");
        }
    }

    void put(OptimizerState.Sink sink, String group, Map<String, Buffer> parts) {
        for (Map.Entry<String, Buffer> e : parts.entrySet()) {
            sink.put(tensor(name, group, e.getKey()), e.getValue());
        }
    }

    /** The name under which part {@code part} of group {@code group} of parameter {@code param} is saved. */
    static String tensor(String param, String group, String part) {
        return param + "/" + group + "." + part;
    }

    /** The saved parts {@code names} of one group; IllegalArgumentException naming a missing tensor. */
    Map<String, Buffer> get(OptimizerState.Source source, String group, Set<String> names, Set<String> used) {
        Map<String, Buffer> parts = new LinkedHashMap<>();
        for (String part : names) {
            String key = tensor(name, group, part);
            Buffer b = source.get(key);
            if (b == null) {
                throw new IllegalArgumentException("tensor '" + key + "' is missing");
            }
            used.add(key);
            parts.put(part, b);
        }
        return parts;
    }

}
