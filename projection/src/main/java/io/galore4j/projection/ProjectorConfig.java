package io.galore4j.projection;

/**
 * The settings of one layer's projector; the constructor rejects bad values naming the field.
 *
 * @param rank            r, the dimension of the subspace (≥ 1; checked against the shape by {@link Projector})
 * @param scale           α, the factor of the back-projection ΔW = α·(P N or N Pᵀ) (finite, &gt; 0)
 * @param side            which side the basis spans (GaLore's proj_type)
 * @param basisMethod     exact thin SVD, randomized SVD, or auto (picked by the matrix's shape, {@link BasisMethod#AUTO})
 * @param oversampling    p, extra random directions of the randomized range finder (≥ 0)
 * @param powerIterations q, power iterations of the randomized range finder (≥ 0)
 * @param seed            seed of the randomized range finder
 * @param basisBits       32 (fp32 basis) or 4 (INT4 basis, groups of 256, Q-GaLore)
 */
public record ProjectorConfig(int rank, double scale, Side side, BasisMethod basisMethod,
        int oversampling, int powerIterations, long seed, int basisBits) {

    /**
     * Power iterations of the randomized range finder unless set: enough for an overlap of about
     * 0.99 with the exact basis on a slowly decaying, gradient-like spectrum (docs/design.md §3.1;
     * the overlaps by p and q are in docs/benchmarks.md).
     */
    public static final int DEFAULT_POWER_ITERATIONS = 4;

    /** Oversampling p unless set: max(16, r/2). What matters is σ_{r+p}/σ_r, so p grows with r. */
    public static int defaultOversampling(int rank) {
        return Math.max(16, rank / 2);
    }

    public ProjectorConfig {
        if (rank < 1) {
            throw new IllegalArgumentException("rank: must be >= 1, got " + rank);
        }
        if (!(scale > 0) || Double.isInfinite(scale)) {
            throw new IllegalArgumentException("scale: must be finite and > 0, got " + scale);
        }
        if (side == null) {
            throw new IllegalArgumentException("side: must not be null");
        }
        if (basisMethod == null) {
            throw new IllegalArgumentException("basisMethod: must not be null");
        }
        if (oversampling < 0) {
            throw new IllegalArgumentException("oversampling: must be >= 0, got " + oversampling);
        }
        if (powerIterations < 0) {
            throw new IllegalArgumentException("powerIterations: must be >= 0, got " + powerIterations);
        }
        if (basisBits != 32 && basisBits != 4) {
            throw new IllegalArgumentException("basisBits: must be 32 or 4, got " + basisBits);
        }
    }

    /** GaLore's defaults for the given rank: α = 0.25, side std, exact SVD, fp32 basis. */
    public static ProjectorConfig of(int rank) {
        return new ProjectorConfig(rank, 0.25, Side.STD, BasisMethod.EXACT,
                defaultOversampling(rank), DEFAULT_POWER_ITERATIONS, 0L, 32);
    }

    public ProjectorConfig withScale(double s) {
        return new ProjectorConfig(rank, s, side, basisMethod, oversampling, powerIterations, seed, basisBits);
    }

    public ProjectorConfig withSide(Side s) {
        return new ProjectorConfig(rank, scale, s, basisMethod, oversampling, powerIterations, seed, basisBits);
    }

    public ProjectorConfig withBasisMethod(BasisMethod b) {
        return new ProjectorConfig(rank, scale, side, b, oversampling, powerIterations, seed, basisBits);
    }

    public ProjectorConfig withRandomized(int p, int q, long s) {
        return new ProjectorConfig(rank, scale, side, BasisMethod.RANDOMIZED, p, q, s, basisBits);
    }

    public ProjectorConfig withBasisBits(int bits) {
        return new ProjectorConfig(rank, scale, side, basisMethod, oversampling, powerIterations, seed, bits);
    }
}
