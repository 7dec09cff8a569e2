package io.galore4j.projection;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Computes the top-r singular vectors of a gradient on one side (GaLore, Zhao et al. 2024,
 * Alg. 2: P = U[:, :r] or V[:, :r] of SVD(G)).
 */
interface BasisSolver {
    /**
     * @param g       the m×n gradient, contiguous c-order fp32 (not modified)
     * @param left    true for the column space of G (P = U[:, :r], m×r), false for the row space
     *                (P = V[:, :r], n×r)
     * @param basisT  r×(m or n) c-order fp32 buffer that receives Pᵀ, one singular vector per row,
     *                in order of decreasing singular value
     * @return the leading singular values of G that were computed (at least r, decreasing)
     */
    float[] solve(INDArray g, boolean left, INDArray basisT);

    /** Solves so far, for a solver whose randomness depends on it (0 for a deterministic one). */
    default long calls() {
        return 0;
    }

    /** Continues a saved sequence of solves (checkpoints); a deterministic solver ignores it. */
    default void restoreCalls(long calls) {
    }
}
