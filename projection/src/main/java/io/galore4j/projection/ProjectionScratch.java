package io.galore4j.projection;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The working buffers of projectors, which several projectors can share: the fp32 decoded copy of
 * an INT4 basis, the projected gradient R and the r×r rotation of the last refresh. Each is needed
 * by one layer at a time when the optimizer updates one layer at a time (layer-wise updates), so
 * one shared scratch holds the largest of each instead of one per layer: at rank 1024 on the 7B
 * model that is tens of megabytes instead of more than ten gigabytes.
 *
 * <p>A buffer handed out stays valid until another projector sharing this scratch asks for the
 * same kind of buffer. A projector built without a scratch gets a private one, so its buffers
 * behave as if owned.
 *
 * <p>Not thread-safe: one scratch per optimizer, used by the optimizer's thread.
 */
public final class ProjectionScratch {
    private final Slot basis = new Slot();
    private final Slot projected = new Slot();
    private final Slot rotation = new Slot();

    /**
     * Grows the buffers now to what a projector of this shape and configuration needs, so the
     * scratch's size is known before the first step (and {@link #bytes()} matches an estimate).
     */
    public void reserve(long rows, long cols, ProjectorConfig config) {
        long[] e = elements(rows, cols, config.rank(), config.basisBits(),
                config.side().resolve(rows, cols) == Side.LEFT);
        if (e[0] > 0) {
            basis.reserve(DataType.FLOAT, e[0]);
        }
        projected.reserve(DataType.FLOAT, e[1]);
        rotation.reserve(DataType.FLOAT, e[2]);
    }

    /**
     * The bytes of the scratch a set of projectors needs: the largest decoded INT4 basis, the
     * largest projected gradient and the largest rotation among them (fp32), each given as
     * {rows, cols, rank, basisBits, side (0 LEFT, 1 RIGHT)} with the side already resolved.
     */
    public static long bytesFor(List<long[]> projectors) {
        long[] max = new long[3];
        for (long[] x : projectors) {
            long[] e = elements(x[0], x[1], (int) x[2], (int) x[3], x[4] == 0);
            for (int k = 0; k < 3; k++) {
                max[k] = Math.max(max[k], e[k]);
            }
        }
        return 4 * (max[0] + max[1] + max[2]);
    }

    /**
     * Elements of the fp32 buffers one projector uses: {decoded basis (0 for an fp32 basis, which
     * is its own store), projected gradient, rotation}.
     */
    private static long[] elements(long rows, long cols, int rank, int basisBits, boolean left) {
        long r = rank;
        return new long[] {basisBits == 4 ? r * (left ? rows : cols) : 0, left ? r * cols : rows * r, r * r};
    }

    /** Bytes allocated now. */
    public long bytes() {
        return basis.bytes() + projected.bytes() + rotation.bytes();
    }

    /** An r×d fp32 buffer for {@code owner}'s decoded basis; {@code fresh} says whether it still holds {@code version}. */
    INDArray basis(Object owner, long version, int rank, int dimension, boolean[] fresh) {
        return basis.take(owner, version, DataType.FLOAT, rank, dimension, fresh);
    }

    INDArray projected(Object owner, DataType type, long rows, long cols) {
        return projected.take(owner, 0, type, rows, cols, null);
    }

    INDArray rotation(Object owner, long version, int rank, boolean[] fresh) {
        return rotation.take(owner, version, DataType.FLOAT, rank, rank, fresh);
    }

    /** Whether {@code owner}'s rotation of this version is still in the scratch. */
    boolean holdsRotation(Object owner, long version) {
        return rotation.owner == owner && rotation.version == version;
    }

    /**
     * One growable flat buffer, handed out as 2-D c-order views of its first elements; remembers
     * which owner and version last asked for it so a caller can skip refilling it.
     */
    private static final class Slot {
        private INDArray flat;               // 1-D, capacity elements
        private final Map<Long, INDArray> views = new HashMap<>();
        private Object owner;
        private long version;

        void reserve(DataType type, long elements) {
            if (flat == null || flat.dataType() != type || flat.length() < elements) {
                // the old buffer is dropped, not closed: a caller may still hold a view of it
                flat = Nd4j.createUninitialized(type, Math.max(elements, flat != null && flat.dataType() == type
                        ? flat.length() : 0));
                views.clear();
                owner = null;
            }
        }

        INDArray take(Object who, long ver, DataType type, long rows, long cols, boolean[] fresh) {
            reserve(type, rows * cols);
            boolean same = owner == who && version == ver;
            owner = who;
            version = ver;
            if (fresh != null) {
                fresh[0] = same;
            }
            long key = rows * 0x1_0000_0000L + cols;
            return views.computeIfAbsent(key, k -> Nd4j.create(flat.data(), new long[] {rows, cols},
                    new long[] {cols, 1}, 0, 'c', type));
        }

        long bytes() {
            return flat == null ? 0 : flat.length() * flat.dataType().width();
        }
    }
}
