package io.galore4j.projection.bench;

import io.galore4j.projection.TestMatrices;
import java.nio.FloatBuffer;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Gradient-like test matrices for the benchmarks: a decaying spectrum σ_i = i^(−power) on
 * k = min(m, n)/2 random orthonormal directions, plus Gaussian noise whose spectral norm
 * (≈ ν(√m + √n)) is half of σ_k, so the matrix has full rank and a slowly decaying tail.
 */
public final class GradientLike {
    private GradientLike() {}

    public static INDArray create(int m, int n, double power, long seed) {
        int k = Math.min(m, n) / 2;
        INDArray g = TestMatrices.withSpectrum(m, n, TestMatrices.powerLaw(k, power), seed);
        double nu = 0.5 * Math.pow(k, -power) / (Math.sqrt(m) + Math.sqrt(n));
        SplittableRandom rng = new SplittableRandom(seed + 7);
        FloatBuffer b = g.data().asNioFloat();
        for (int i = 0; i < g.length(); i++) {
            b.put(i, (float) (b.get(i) + nu * rng.nextGaussian()));
        }
        return g;
    }

    /** Subspace overlap ‖P_a P_bᵀ‖²_F / r of two r×d bases with orthonormal rows. */
    public static double overlap(INDArray aT, INDArray bT) {
        INDArray c = Nd4j.gemm(aT.castTo(DataType.FLOAT), bT.castTo(DataType.FLOAT), false, true);
        double f = c.norm2Number().doubleValue();
        return f * f / aT.rows();
    }
}
