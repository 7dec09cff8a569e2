package io.galore4j.galore;

import io.galore4j.projection.BasisStore;
import io.galore4j.projection.ProjectionScratch;
import io.galore4j.quant.Moment;
import io.galore4j.projection.Side;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Exact bytes per parameter and component, from a live optimizer ({@link LayerwiseOptimizer#memory()})
 * or from shapes and settings alone ({@link #estimate}); the two agree exactly (tested).
 *
 * <p>Persistent components live from {@code add} to {@code close}: the weight (fp32: 4 bytes per
 * element, INT8: 1, split: 3 = bf16 high part + int8 correction) and its INT8 scales/zero
 * points, the stored basis, and both moments with their scales. Working components: the
 * accumulation buffer (only with gradient accumulation; R-shaped for GaLore, full for APOLLO and Fira; 4 or, with
 * {@code accumulation: bf16}, 2 bytes per element), and the trainer's fp32 gradient (4 bytes per
 * element; with layer-wise updates only the largest one is alive at a time, see
 * {@link #layerwiseGradientBytes()}). Shared: the pool INT8 and split weights are decoded into
 * ({@value WeightPool#PER_SHAPE} fp32 arrays per distinct shape), and the projectors' scratch
 * ({@link ProjectionScratch}: the largest decoded INT4 basis, projected gradient R and r×r rotation).
 */
public final class MemoryAccount {
    public enum Component {
        WEIGHT(true), WEIGHT_SCALES(true), BASIS(true), M(true), M_SCALES(true), V(true), V_SCALES(true),
        ACCUMULATION(false), GRADIENT(false);

        private final boolean persistent;

        Component(boolean persistent) {
            this.persistent = persistent;
        }

        public boolean persistent() {
            return persistent;
        }
    }

    /** One parameter's bytes by component. */
    public record Row(String name, long elements, Map<Component, Long> bytes) {
        public Row {
            Map<Component, Long> nonZero = new EnumMap<>(Component.class);
            bytes.forEach((c, v) -> {
                if (v != 0) {
                    nonZero.put(c, v);
                }
            });
            bytes = Collections.unmodifiableMap(nonZero);
        }

        public long get(Component c) {
            return bytes.getOrDefault(c, 0L);
        }

        public long total() {
            return bytes.values().stream().mapToLong(Long::longValue).sum();
        }

        public long persistent() {
            return bytes.entrySet().stream().filter(e -> e.getKey().persistent()).mapToLong(Map.Entry::getValue).sum();
        }
    }

    private final List<Row> rows;
    private final long weightPoolBytes;
    private final long projectionScratchBytes;

    MemoryAccount(List<Row> rows, long weightPoolBytes, long projectionScratchBytes) {
        this.rows = List.copyOf(rows);
        this.weightPoolBytes = weightPoolBytes;
        this.projectionScratchBytes = projectionScratchBytes;
    }

    public List<Row> rows() {
        return rows;
    }

    public Row row(String name) {
        return rows.stream().filter(r -> r.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("memory account: unknown parameter " + name));
    }

    public long total(Component c) {
        return rows.stream().mapToLong(r -> r.get(c)).sum();
    }

    /** All per-parameter bytes plus the weight pool and the projection scratch. */
    public long total() {
        return rows.stream().mapToLong(Row::total).sum() + weightPoolBytes + projectionScratchBytes;
    }

    public long persistent() {
        return rows.stream().mapToLong(Row::persistent).sum();
    }

    public long elements() {
        return rows.stream().mapToLong(Row::elements).sum();
    }

    public double persistentBytesPerParameter() {
        return (double) persistent() / elements();
    }

    public long weightPoolBytes() {
        return weightPoolBytes;
    }

    /** The projectors' shared working buffers (see {@link ProjectionScratch}). */
    public long projectionScratchBytes() {
        return projectionScratchBytes;
    }

    /** The largest single gradient (4 bytes per element): what layer-wise updates keep alive. */
    public long layerwiseGradientBytes() {
        return rows.stream().mapToLong(r -> r.get(Component.GRADIENT)).max().orElse(0);
    }

    /**
     * The transient bytes of one APOLLO update (optim.scaling channel or tensor) of a parameter of
     * this shape: its projection and projected gradient ({@link ApolloParam#updateBytes}).
     */
    public static long apolloUpdateBytes(ParamSettings p, long[] shape) {
        return ApolloParam.updateBytes(p.rank(), shape[0], shape[1]);
    }

    /**
     * The account a {@link LayerwiseOptimizer} with these settings would report after
     * {@code add}ing parameters of these shapes (in map order), without allocating anything.
     *
     * @param accumulation whether the trainer accumulates gradients (then every parameter has an
     *                     accumulation buffer: R-shaped for GaLore without Fira's residual,
     *                     full-shaped otherwise)
     */
    public static MemoryAccount estimate(OptimSettings settings, Map<String, long[]> shapes, boolean accumulation) {
        List<Row> rows = new ArrayList<>();
        java.util.Set<String> pooledShapes = new java.util.LinkedHashSet<>();
        long pool = 0;
        List<long[]> projectors = new ArrayList<>();
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long[] shape = e.getValue();
            ParamSettings p = settings.resolve(e.getKey(), shape);
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            Map<Component, Long> b = new EnumMap<>(Component.class);
            switch (p.weights()) {
                case INT8 -> {
                    long[] w = Int8Weight.bytes(n);
                    b.put(Component.WEIGHT, w[0]);
                    b.put(Component.WEIGHT_SCALES, w[1]);
                }
                case SPLIT -> b.put(Component.WEIGHT, SplitWeight.bytes(n));
                default -> b.put(Component.WEIGHT, 4 * n);
            }
            if (p.weights() != WeightStorage.FP32 && pooledShapes.add(java.util.Arrays.toString(shape))) {
                pool += WeightPool.PER_SHAPE * 4L * n;
            }
            long stateRows = shape.length == 2 ? shape[0] : 1;
            long stateCols = n / stateRows;
            long accumulated = n; // APOLLO and Fira accumulate the full gradient
            if (p.galore()) {
                long m = shape[0];
                long cols = shape[1];
                long r = p.rank();
                boolean left = p.side().resolve(m, cols) == Side.LEFT;
                long[] projected = p.side().projectedShape(m, cols, r);
                stateRows = projected[0];
                stateCols = projected[1];
                if (!p.apollo()) { // APOLLO keeps no basis: P is redrawn from its seed
                    b.put(Component.BASIS, BasisStore.bytes(p.basisBits(), r, p.side().basisDimension(m, cols)));
                    projectors.add(new long[] {m, cols, r, p.basisBits(), left ? 0 : 1});
                    if (!p.fira()) {
                        accumulated = stateRows * stateCols;
                    }
                }
            }
            long[] mBytes = MomentState.estimate(p.mCodec(), Moment.FIRST, stateRows, stateCols);
            b.put(Component.M, mBytes[0]);
            b.put(Component.M_SCALES, mBytes[1]);
            if (p.galore() || p.rule() == UpdateRule.ADAMW) {
                long[] vBytes = MomentState.estimate(p.vCodec(), Moment.SECOND, stateRows, stateCols);
                b.put(Component.V, vBytes[0]);
                b.put(Component.V_SCALES, vBytes[1]);
            }
            if (accumulation) {
                b.put(Component.ACCUMULATION, Accumulation.bytesPerElement(p.accumulation()) * accumulated);
            }
            b.put(Component.GRADIENT, 4 * n);
            rows.add(new Row(e.getKey(), n, b));
        }
        return new MemoryAccount(rows, pool, ProjectionScratch.bytesFor(projectors));
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("MemoryAccount[persistent=" + persistent() + " B, "
                + String.format("%.4f", persistentBytesPerParameter()) + " B/param, pool=" + weightPoolBytes
                + " B, projection scratch=" + projectionScratchBytes + " B]");
        for (Component c : Component.values()) {
            s.append("\n  ").append(c).append(' ').append(total(c));
        }
        return s.toString();
    }
}
