package io.galore4j.galore;

import io.galore4j.quant.RoundingRng;
import io.galore4j.projection.SubspaceStats;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;
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

    abstract MemoryAccount.Row account();

    abstract void close();

    /** acc += g elementwise (contiguous fp32 buffers). */
    /**
     * Completes an accounting row: adds the moments (v may be null), the accumulation buffer (if
     * any) and the gradient buffer to {@code bytes}.
     */
    MemoryAccount.Row row(Map<MemoryAccount.Component, Long> bytes, MomentState m, MomentState v, INDArray acc) {
        bytes.put(MemoryAccount.Component.M, m.codeBytes());
        bytes.put(MemoryAccount.Component.M_SCALES, m.scaleBytes());
        if (v != null) {
            bytes.put(MemoryAccount.Component.V, v.codeBytes());
            bytes.put(MemoryAccount.Component.V_SCALES, v.scaleBytes());
        }
        if (acc != null) {
            bytes.put(MemoryAccount.Component.ACCUMULATION, 4 * acc.length());
        }
        bytes.put(MemoryAccount.Component.GRADIENT, 4L * weight.length());
        return new MemoryAccount.Row(name, weight.length(), bytes);
    }

    static void addInto(FloatBuffer acc, int accOff, FloatBuffer g, int gOff, int n, float[] a, float[] b) {
        for (int s = 0; s < n; s += Chunks.SIZE) {
            int len = Math.min(Chunks.SIZE, n - s);
            acc.get(accOff + s, a, 0, len);
            g.get(gOff + s, b, 0, len);
            for (int i = 0; i < len; i++) {
                a[i] += b[i];
            }
            acc.put(accOff + s, a, 0, len);
        }
    }
}
