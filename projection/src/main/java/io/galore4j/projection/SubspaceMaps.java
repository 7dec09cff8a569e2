package io.galore4j.projection;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The products of one {@link Projector} between the m×n gradient space and its rank-r subspace
 * (docs/design.md §3), with the current basis Pᵀ of its {@link BasisStore}:
 * <pre>
 *   LEFT  (Pᵀ r×m):  R = Pᵀ G (r×n),  ΔW = α P N,  moments M' = C M
 *   RIGHT (Pᵀ r×n):  R = G P (m×r),   ΔW = α N Pᵀ, moments M' = M Cᵀ
 * </pre>
 * Results go to the shared {@link ProjectionScratch} (R) or a caller's array. Gradients of
 * type DOUBLE use a DOUBLE copy of Pᵀ, made on first use and refreshed by {@link #basisChanged}.
 */
final class SubspaceMaps {
    private final Object owner;
    private final String layer;
    private final long rows;
    private final long cols;
    private final int rank;
    private final Side side;
    private final double scale;
    private final BasisStore store;
    private final ProjectionScratch scratch;
    private INDArray basis64;        // DOUBLE copy of Pᵀ for fp64 gradients, made on demand

    SubspaceMaps(Object owner, String layer, long rows, long cols, ProjectorConfig config, Side side, BasisStore store,
            ProjectionScratch scratch) {
        this.owner = owner;
        this.layer = layer;
        this.rows = rows;
        this.cols = cols;
        this.rank = config.rank();
        this.side = side;
        this.scale = config.scale();
        this.store = store;
        this.scratch = scratch;
    }

    /** Shape of the projected gradient: {r, n} for LEFT, {m, r} for RIGHT. */
    long[] projectedShape() {
        return side.projectedShape(rows, cols, rank);
    }

    /** The store's basis was replaced or reloaded: the DOUBLE copy follows. */
    void basisChanged() {
        if (basis64 != null) {
            basis64.assign(store.basisT());
        }
    }

    /**
     * R of {@code grad} (checked by {@link #checkGradient}) with {@code candidateT} (fp32 Pᵀ of a
     * proposed basis) or, if null, the current basis.
     */
    INDArray project(INDArray grad, INDArray candidateT) {
        INDArray cast = null;
        INDArray b;
        if (candidateT == null) {
            b = basisFor(grad.dataType());
        } else {
            b = grad.dataType() == DataType.FLOAT ? candidateT : (cast = candidateT.castTo(grad.dataType()));
        }
        long[] shape = projectedShape();
        INDArray out = scratch.projected(owner, grad.dataType(), shape[0], shape[1]);
        try {
            if (side == Side.LEFT) {
                Nd4j.gemm(b, grad, out, false, false, 1.0, 0.0);
            } else {
                Nd4j.gemm(grad, b, out, false, true, 1.0, 0.0);
            }
        } finally {
            if (cast != null) {
                cast.close();
            }
        }
        // NaN/Inf in G reaches every entry of its column (LEFT) or row (RIGHT) of R: checking R is enough
        SubspaceMeasures.requireFinite(out, "gradient of layer " + layer);
        return out;
    }

    /** out (m×n) = α·(P N) (LEFT) or α·(N Pᵀ) (RIGHT). */
    void projectBack(INDArray lowRankUpdate, INDArray out) {
        long[] want = projectedShape();
        if (lowRankUpdate == null || lowRankUpdate.rank() != 2 || lowRankUpdate.rows() != want[0]
                || lowRankUpdate.columns() != want[1]) {
            throw new IllegalArgumentException("lowRankUpdate: layer " + layer + " expects " + want[0] + "×" + want[1]
                    + ", got " + (lowRankUpdate == null ? "null" : java.util.Arrays.toString(lowRankUpdate.shape())));
        }
        if (out == null || out.rank() != 2 || out.rows() != rows || out.columns() != cols
                || out.dataType() != lowRankUpdate.dataType()) {
            throw new IllegalArgumentException("out: layer " + layer + " expects a " + rows + "×" + cols + " "
                    + lowRankUpdate.dataType() + " array, got "
                    + (out == null ? "null" : java.util.Arrays.toString(out.shape()) + " " + out.dataType()));
        }
        INDArray b = basisFor(lowRankUpdate.dataType());
        if (side == Side.LEFT) {
            Nd4j.gemm(b, lowRankUpdate, out, true, false, scale, 0.0);
        } else {
            Nd4j.gemm(lowRankUpdate, b, out, false, false, scale, 0.0);
        }
    }

    /** out = C M (LEFT) or M Cᵀ (RIGHT) for the rotation {@code c} (r×r, fp32); {@code out} must not be {@code moment}. */
    void rotate(INDArray c, INDArray moment, INDArray out) {
        if (moment == out) {
            throw new IllegalArgumentException("out: must be a different array than moment");
        }
        if (moment.dataType() != DataType.FLOAT) {
            c = c.castTo(moment.dataType());
        }
        if (side == Side.LEFT) {
            Nd4j.gemm(c, moment, out, false, false, 1.0, 0.0);
        } else {
            Nd4j.gemm(moment, c, out, false, true, 1.0, 0.0);
        }
    }

    /** Throws IllegalArgumentException unless {@code grad} is a FLOAT or DOUBLE m×n array. */
    void checkGradient(INDArray grad) {
        if (grad == null) {
            throw new IllegalArgumentException("gradient: layer " + layer + " got null");
        }
        if (grad.rank() != 2) {
            throw new IllegalArgumentException("gradient: layer " + layer + " needs a 2-D array, got shape "
                    + java.util.Arrays.toString(grad.shape()));
        }
        if (grad.rows() != rows || grad.columns() != cols) {
            throw new IllegalArgumentException("gradient: layer " + layer + " is " + rows + "×" + cols + ", got "
                    + grad.rows() + "×" + grad.columns());
        }
        if (grad.dataType() != DataType.FLOAT && grad.dataType() != DataType.DOUBLE) {
            throw new IllegalArgumentException("gradient: layer " + layer + " needs FLOAT or DOUBLE, got "
                    + grad.dataType());
        }
    }

    /** Throws IllegalStateException while no basis is set. */
    void requireBasis() {
        if (!store.isSet()) {
            throw new IllegalStateException("layer " + layer + " has no basis yet: call refresh or refreshIfDue first");
        }
    }

    private INDArray basisFor(DataType type) {
        requireBasis();
        if (type == DataType.FLOAT) {
            return store.basisT();
        }
        if (basis64 == null) {
            basis64 = store.basisT().castTo(DataType.DOUBLE);
        }
        return basis64;
    }
}
