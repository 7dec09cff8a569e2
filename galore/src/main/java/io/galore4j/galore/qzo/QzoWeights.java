package io.galore4j.galore.qzo;

import io.galore4j.quant.SymmetricCodes;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The weights of a QZO model (docs/design.md §3): every matrix is frozen group-wise symmetric codes q
 * ({@link SymmetricCodes}, INT8 or INT4) times trainable per-group scales Δ, W = Δ ⊙ q; every
 * vector (the RMSNorm gains) is a frozen copy. There are no gradients and no optimizer state:
 * the scales are the only values that change.
 *
 * <p>{@link #weight} decodes a matrix on demand at the current point Δ ⊙ (1 + a·z), a perturbation
 * relative to each scale (set by {@link #perturb}; a = 0 outside a step, a = ±ε inside one) into a
 * scratch array of its shape, one per distinct
 * shape, so at most one decoded matrix per shape exists at a time. The array is valid until the
 * next {@code weight} call for a matrix of the same shape (the model's {@code WeightSource}
 * contract asks less: until the next call of any name). z is regenerated group by group from
 * {@link Perturbation} while decoding and updating, never stored.
 *
 * <p>Arrays are FLOAT for training or DOUBLE (for derivative checks); scales are fp32 and every
 * decoded value is computed in double, Δ_g·(1 + a·z_g) · q_i, before it is stored in that type.
 * Not thread-safe.
 */
public final class QzoWeights implements AutoCloseable {
    private static final int CHUNK = 16384;

    /** A quantized matrix: its codes, its trainable scales and its index for {@link Perturbation}. */
    private record Scaled(int index, long[] shape, SymmetricCodes codes, float[] scales) {}

    private final int bits;
    private final int groupSize;
    private final DataType type;
    private final Map<String, Scaled> scaled = new LinkedHashMap<>();
    private final Map<String, INDArray> frozen = new LinkedHashMap<>();
    private final Map<String, INDArray> buffers = new HashMap<>();
    private final double[] stage = new double[CHUNK];
    private final float[] stageFloat = new float[CHUNK];
    private final List<String> order = new ArrayList<>();
    private long seed;
    private double amount;

    /** Empty weights storing matrices as {@code bits}-bit codes with one scale per {@code groupSize} elements. */
    public QzoWeights(int bits, int groupSize, DataType type) {
        if (type != DataType.FLOAT && type != DataType.DOUBLE) {
            throw new IllegalArgumentException("QZO weights are FLOAT or DOUBLE, not " + type);
        }
        SymmetricCodes.checkFormat(bits, groupSize);
        this.bits = bits;
        this.groupSize = groupSize;
        this.type = type;
    }

    /**
     * Adds parameter {@code name} from its initial value (not kept: the caller may close it): a
     * matrix is encoded (Δ_g = max|w| / Q, q = round(w / Δ_g)), a vector copied and frozen.
     * IllegalArgumentException for a repeated name, another rank, or a non-finite value (naming the
     * parameter and the element).
     */
    public void add(String name, INDArray initial) {
        if (scaled.containsKey(name) || frozen.containsKey(name)) {
            throw new IllegalArgumentException("parameter " + name + " added twice");
        }
        if (initial.rank() == 1) {
            frozen.put(name, initial.castTo(type).dup('c'));
            order.add(name);
            return;
        }
        if (initial.rank() != 2) {
            throw new IllegalArgumentException("parameter " + name + ": QZO quantizes matrices and keeps vectors,"
                    + " got rank " + initial.rank());
        }
        INDArray f = initial.dataType() == DataType.FLOAT && initial.ordering() == 'c' && !initial.isView()
                ? initial : initial.castTo(DataType.FLOAT).dup('c');
        try {
            int n = Math.toIntExact(f.length());
            float[] scales = new float[SymmetricCodes.groupCount(n, groupSize)];
            SymmetricCodes codes;
            try {
                codes = SymmetricCodes.encode(bits, groupSize, f.data().asNioFloat(), (int) f.offset(), n, scales);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("parameter " + name + " cannot be quantized: " + e.getMessage(), e);
            }
            long[] shape = initial.shape().clone();
            scaled.put(name, new Scaled(order.size(), shape, codes, scales));
            order.add(name);
            buffers.computeIfAbsent(Arrays.toString(shape), k -> Nd4j.create(type, shape, 'c'));
        } finally {
            if (f != initial) {
                f.close();
            }
        }
    }

    /**
     * Sets the point at which {@link #weight} decodes: Δ ⊙ (1 + {@code amount}·z), every scale moved
     * by {@code amount}·z_g times itself, with z the draws of {@code seed} (amount = ±ε inside a
     * step; 0 decodes Δ itself). Δ does not change.
     */
    public void perturb(long seed, double amount) {
        if (!Double.isFinite(amount)) {
            throw new IllegalArgumentException("perturbation amount must be finite, got " + amount);
        }
        this.seed = seed;
        this.amount = amount;
    }

    /** The current value of {@code name} (see the class comment for how long the array stays valid). */
    public INDArray weight(String name) {
        INDArray v = frozen.get(name);
        if (v != null) {
            return v;
        }
        Scaled p = scaled.get(name);
        if (p == null) {
            throw new IllegalArgumentException("unknown parameter name: " + name);
        }
        INDArray out = buffers.get(Arrays.toString(p.shape()));
        Perturbation z = amount != 0 ? Perturbation.of(seed, p.index()) : null;
        SymmetricCodes codes = p.codes();
        int groups = codes.groupCount();
        int perChunk = Math.max(1, CHUNK / groupSize);
        FloatBuffer floats = type == DataType.FLOAT ? out.data().asNioFloat() : null;
        DoubleBuffer doubles = type == DataType.DOUBLE ? out.data().asNioDouble() : null;
        for (int g0 = 0; g0 < groups; g0 += perChunk) {
            int n = 0;
            for (int g = g0; g < Math.min(groups, g0 + perChunk); g++) {
                double delta = p.scales()[g];
                double scale = z == null ? delta : delta * (1 + amount * z.next()); // Δ_g·(1 + a·z_g)
                n += codes.decodeGroup(g, scale, stage, n); // W_i = Δ_g·(1 + a·z_g) · q_i
            }
            int at = g0 * groupSize;
            if (floats != null) {
                for (int i = 0; i < n; i++) {
                    stageFloat[i] = (float) stage[i];
                }
                floats.put(at, stageFloat, 0, n);
            } else {
                doubles.put(at, stage, 0, n);
            }
        }
        return out;
    }

    /**
     * The QZO update of every scale with the draws z of {@code seed}, relative to the scale:
     * Δ_g ← max(Δ_g·(1 − step·z_g), minScale), step = η·d (see {@link Qzo}). Returns how many
     * scales the floor held at {@code minScale}.
     */
    public long update(long seed, double step, double minScale) {
        if (!Double.isFinite(step) || !(minScale > 0)) {
            throw new IllegalArgumentException("update needs a finite step and minScale > 0, got " + step + ", "
                    + minScale);
        }
        long floored = 0;
        for (Scaled p : scaled.values()) {
            Perturbation z = Perturbation.of(seed, p.index());
            float[] s = p.scales();
            for (int g = 0; g < s.length; g++) {
                double next = s[g] * (1 - step * z.next());
                if (next < minScale) {
                    next = minScale;
                    floored++;
                }
                float f = (float) next;
                s[g] = f < minScale ? Math.nextUp(f) : f; // fp32 rounding must not cross the floor
            }
        }
        return floored;
    }

    /** The parameter names in the order they were added (matrices and vectors). */
    public List<String> names() {
        return Collections.unmodifiableList(order);
    }

    /** True when {@code name} is a quantized matrix with trainable scales. */
    public boolean isScaled(String name) {
        return scaled.containsKey(name);
    }

    /** A copy of the current scales Δ of matrix {@code name}. */
    public float[] scales(String name) {
        return scaledParam(name).scales().clone();
    }

    /** A copy of every matrix's scales Δ, in the order the matrices were added (for {@link #restoreScales}). */
    public float[][] copyScales() {
        return scaled.values().stream().map(p -> p.scales().clone()).toArray(float[][]::new);
    }

    /** Sets every scale Δ from {@code copy}, a {@link #copyScales} of these weights. */
    public void restoreScales(float[][] copy) {
        if (copy.length != scaled.size()) {
            throw new IllegalArgumentException("a copy of " + copy.length + " matrices' scales, not " + scaled.size());
        }
        int k = 0;
        for (Scaled p : scaled.values()) {
            float[] from = copy[k++];
            if (from.length != p.scales().length) {
                throw new IllegalArgumentException("a copy of " + from.length + " scales for a matrix with "
                        + p.scales().length);
            }
            System.arraycopy(from, 0, p.scales(), 0, from.length);
        }
    }

    /** The frozen codes of matrix {@code name}. */
    public SymmetricCodes codes(String name) {
        return scaledParam(name).codes();
    }

    /** The index that seeds this parameter's perturbation ({@link Perturbation#of}). */
    public int index(String name) {
        return scaledParam(name).index();
    }

    private Scaled scaledParam(String name) {
        Scaled p = scaled.get(name);
        if (p == null) {
            throw new IllegalArgumentException("not a quantized matrix: " + name);
        }
        return p;
    }

    /** The trainable values: one scale per group of every matrix. */
    public long trainableCount() {
        return scaled.values().stream().mapToLong(p -> p.scales().length).sum();
    }

    /** Bytes of the stored model: codes, fp32 scales and the frozen vectors. */
    public long storedBytes() {
        long b = 0;
        for (Scaled p : scaled.values()) {
            b += p.codes().bytes() + 4L * p.scales().length;
        }
        for (INDArray v : frozen.values()) {
            b += v.length() * v.dataType().width();
        }
        return b;
    }

    /** Bytes of the scratch arrays matrices are decoded into (one per distinct shape). */
    public long bufferBytes() {
        return buffers.values().stream().mapToLong(a -> a.length() * a.dataType().width()).sum();
    }

    @Override
    public void close() {
        buffers.values().forEach(INDArray::close);
        frozen.values().forEach(INDArray::close);
        buffers.clear();
        frozen.clear();
    }
}
