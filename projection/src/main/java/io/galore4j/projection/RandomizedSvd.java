package io.galore4j.projection;

import java.nio.FloatBuffer;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The randomized basis (Halko, Martinsson, Tropp 2011): a range finder with oversampling p and q
 * power iterations, re-orthonormalized by QR after every product (their Alg. 4.4, "randomized
 * subspace iteration"), then the exact SVD of the small projected matrix (their Alg. 5.1).
 *
 * <p>Let A = G for the left basis, A = Gᵀ for the right one (A is M×N, ℓ = min(r + p, M, N)).
 * <pre>
 *   Ω ~ N(0, 1)^{N×ℓ};  Q = orth(A Ω)
 *   q times:  Q = orth(A orth(Aᵀ Q))
 *   B = Qᵀ A  (ℓ×N);  Bᵀ = Q_B R_B (QR);  R_B = U_R Σ V_Rᵀ  ⇒  B = V_R Σ (Q_B U_R)ᵀ
 *   P = Q V_R[:, :r],  σ = diag(Σ)
 * </pre>
 * Tall factors are kept transposed (ℓ×M in c-order = M×ℓ column-major), the layout LAPACK's QR
 * wants, so every product is one GEMM on the gradient in place and no transpose is ever copied.
 * Each call draws Ω from its own stream: seed, then the call count, so runs are reproducible.
 */
final class RandomizedSvd implements BasisSolver {
    private final int oversampling;
    private final int powerIterations;
    private final long seed;
    private long calls;

    RandomizedSvd(int oversampling, int powerIterations, long seed) {
        this.oversampling = oversampling;
        this.powerIterations = powerIterations;
        this.seed = seed;
    }

    @Override
    public long calls() {
        return calls;
    }

    @Override
    public void restoreCalls(long calls) {
        if (calls < 0) {
            throw new IllegalArgumentException("randomized SVD state: calls must be >= 0, got " + calls);
        }
        this.calls = calls;
    }

    @Override
    public float[] solve(INDArray g, boolean left, INDArray basisT) {
        int m = (int) g.rows();
        int n = (int) g.columns();
        int bigM = left ? m : n;
        int bigN = left ? n : m;
        int rank = (int) basisT.rows();
        int l = Math.min(rank + oversampling, Math.min(m, n));

        INDArray omegaT = Nd4j.createUninitialized(DataType.FLOAT, l, bigN);
        INDArray qT = Nd4j.createUninitialized(DataType.FLOAT, l, bigM);
        INDArray zT = Nd4j.createUninitialized(DataType.FLOAT, l, bigN);
        INDArray small = Nd4j.createUninitialized(DataType.FLOAT, l, rank);
        try {
            fillGaussian(omegaT, new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * ++calls)));
            timesAT(g, left, omegaT, qT);                       // Yᵀ = Ωᵀ Aᵀ
            Lapack.orthonormalizeColumns(Lapack.pointer(qT), bigM, l);
            for (int it = 0; it < powerIterations; it++) {
                timesA(g, left, qT, zT);                        // Zᵀ = Qᵀ A
                Lapack.orthonormalizeColumns(Lapack.pointer(zT), bigN, l);
                timesAT(g, left, zT, qT);                       // Yᵀ = Zᵀ Aᵀ
                Lapack.orthonormalizeColumns(Lapack.pointer(qT), bigM, l);
            }
            timesA(g, left, qT, zT);                            // B = Qᵀ A (ℓ×N) = column-major Bᵀ
            Lapack.qrFactor(Lapack.pointer(zT), bigN, l);       // Bᵀ = Q_B R_B
            float[] sigma = new float[l];
            try (FloatPointer r = new FloatPointer((long) l * l);
                    FloatPointer s = new FloatPointer(l);
                    FloatPointer u = new FloatPointer((long) l * l);
                    FloatPointer vt = new FloatPointer((long) l * l)) {
                FloatBuffer packed = zT.data().asNioFloat();
                FloatBuffer rb = r.asBuffer();
                for (int j = 0; j < l; j++) {                   // R_B: upper triangle, column-major, ld = N
                    for (int i = 0; i < l; i++) {
                        rb.put(i + j * l, i <= j ? packed.get(i + j * bigN) : 0f);
                    }
                }
                Lapack.thinSvd(r, l, l, s, u, vt);
                s.get(sigma);
                // V_R(a, b) = vt(b, a) = vt[b + a*l]; keep the first r columns of V_R
                FloatBuffer v = vt.asBuffer();
                FloatBuffer sm = small.data().asNioFloat();
                for (int a = 0; a < l; a++) {
                    for (int b = 0; b < rank; b++) {
                        sm.put(a * rank + b, v.get(b + a * l));
                    }
                }
            }
            Nd4j.gemm(small, qT, basisT, true, false, 1.0, 0.0); // Pᵀ = V_R[:, :r]ᵀ Qᵀ
            return sigma;
        } finally {
            omegaT.close();
            qT.close();
            zT.close();
            small.close();
        }
    }

    /** out (ℓ×M) = xT (ℓ×N) · Aᵀ. */
    private static void timesAT(INDArray g, boolean left, INDArray xT, INDArray out) {
        Nd4j.gemm(xT, g, out, false, left, 1.0, 0.0);
    }

    /** out (ℓ×N) = xT (ℓ×M) · A. */
    private static void timesA(INDArray g, boolean left, INDArray xT, INDArray out) {
        Nd4j.gemm(xT, g, out, false, !left, 1.0, 0.0);
    }

    private static void fillGaussian(INDArray a, SplittableRandom rng) {
        FloatBuffer b = a.data().asNioFloat();
        long len = a.length();
        for (int i = 0; i < len; i++) {
            b.put(i, (float) rng.nextGaussian());
        }
    }
}
