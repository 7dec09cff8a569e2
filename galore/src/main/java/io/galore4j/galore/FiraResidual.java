package io.galore4j.galore;

import io.galore4j.projection.Side;
import java.nio.FloatBuffer;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Fira's residual (Chen et al. 2024, arXiv 2410.01623, §3.2-3.3; docs/design.md §3) for one GaLore
 * parameter. With R = Pᵀ G (left, r×n) or G P (right, m×r) and ψ(R) = N its Adam update:
 * <pre>
 *   E   = G − P R   (left)  or  G − R Pᵀ  (right)        the gradient outside the subspace
 *   φ_j = ‖ψ(R)_j‖ / ‖R_j‖                                 one factor per slice j of R
 *   S   = φ ∘ E        (slice j of E times φ_j)
 *   S  ← S · min(1, γ‖S_{t−1}‖ / ‖S‖)                      {@link NormGrowthLimiter}, γ = 1.01
 *   ΔW  = α·P N (or α·N Pᵀ) + S
 * </pre>
 * A slice is a column of R (left: r entries, one per column j of the m×n gradient) or a row of R
 * (right: one per row i): the axis R shares with G, so that φ_j measures how much Adam rescaled
 * the projection of exactly the slice of G whose remainder it then scales. The paper's "column"
 * is this axis when the basis spans the rows (left); on the right side the shared axis is the rows.
 * α multiplies the subspace term only, as in the paper's update. A slice with ‖R_j‖ = 0 gets
 * φ_j = 0 (its ratio is undefined). E is formed in the gradient buffer in place, so the only
 * extra memory is three vectors of doubles along the shared axis, held during the update (no
 * state beyond the limiter's one number: no {@link MemoryAccount} row of its own).
 */
final class FiraResidual {
    private final NormGrowthLimiter limiter = new NormGrowthLimiter(NormGrowthLimiter.DEFAULT_GAMMA);
    private final Side side;
    private final int rows;
    private final int cols;
    private final int slices;
    /** ‖R_j‖ (times |gradScale|), then φ_j, one per slice: from {@link #subtract} to the end of {@link #finish}. */
    private double[] factor;

    FiraResidual(Side side, long rows, long cols) {
        this.side = side;
        this.rows = (int) rows;
        this.cols = (int) cols;
        this.slices = side == Side.LEFT ? this.cols : this.rows;
    }

    /**
     * Before Adam overwrites R: remembers ‖gradScale·R_j‖ and turns {@code grad} (G, m×n) into
     * E = G − P R (or G − R Pᵀ); {@code basisT} is Pᵀ.
     */
    void subtract(INDArray grad, INDArray r, INDArray basisT, double gradScale) {
        factor = new double[slices];
        sliceNorms(r, Math.abs(gradScale), factor);
        if (side == Side.LEFT) {
            Nd4j.gemm(basisT, r, grad, true, false, -1.0, 1.0);
        } else {
            Nd4j.gemm(r, basisT, grad, false, false, -1.0, 1.0);
        }
    }

    /**
     * After Adam wrote N = ψ(R) into {@code n}: {@code grad} ← α·P N (or α·N Pᵀ) + the limited
     * S = φ ∘ (gradScale·E). {@link #subtract} came first, with the same gradient scale.
     */
    void finish(INDArray grad, INDArray n, INDArray basisT, double alpha, double gradScale) {
        double[] psi = new double[slices];
        sliceNorms(n, 1.0, psi);
        for (int j = 0; j < factor.length; j++) {
            factor[j] = factor[j] > 0 ? gradScale * psi[j] / factor[j] : 0.0;
        }
        FloatBuffer g = grad.data().asNioFloat();
        int off = (int) grad.offset();
        double[] squares = new double[slices];
        boolean left = side == Side.LEFT;
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                double e = g.get(off + i * cols + j);
                squares[left ? j : i] += e * e;
            }
        }
        double norm = 0;
        for (int j = 0; j < factor.length; j++) {
            norm += factor[j] * factor[j] * squares[j];
        }
        double limit = limiter.factor(Math.sqrt(norm));
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                int k = off + i * cols + j;
                g.put(k, (float) (g.get(k) * factor[left ? j : i] * limit));
            }
        }
        if (left) {
            Nd4j.gemm(basisT, n, grad, true, false, alpha, 1.0);
        } else {
            Nd4j.gemm(n, basisT, grad, false, false, alpha, 1.0);
        }
        factor = null;
    }

    /** out[j] = scale·‖slice j‖ of a projected array (columns of r×n on the left, rows of m×r on the right). */
    private void sliceNorms(INDArray a, double scale, double[] out) {
        FloatBuffer b = a.data().asNioFloat();
        int off = (int) a.offset();
        int ar = (int) a.rows();
        int ac = (int) a.columns();
        java.util.Arrays.fill(out, 0.0);
        for (int i = 0; i < ar; i++) {
            for (int j = 0; j < ac; j++) {
                double x = b.get(off + i * ac + j);
                out[side == Side.LEFT ? j : i] += x * x;
            }
        }
        for (int j = 0; j < out.length; j++) {
            out[j] = scale * Math.sqrt(out[j]);
        }
    }

    /** The limiter's state for a checkpoint. */
    Map<String, Object> state() {
        return limiter.state();
    }

    /** Restores {@link #state()}; IllegalArgumentException when it is missing. */
    void restore(Map<String, ?> state) {
        limiter.restore(state);
    }
}
