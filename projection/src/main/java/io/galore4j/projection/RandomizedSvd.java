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
 *
 * <p>When it costs fewer operations ({@link #useGram}: ℓ large against M, as at the papers'
 * ranks), the same subspace iteration runs on the Gram matrix C = A Aᵀ (M×M), formed once
 * (Halko et al. §4.5 note that (A Aᵀ)^q A Ω is the power scheme):
 * <pre>
 *   Ω ~ N(0, 1)^{M×ℓ};  Q = orth(C Ω);  q times:  Q = orth(C Q)
 *   T = Qᵀ C Q  (ℓ×ℓ);  T = E Λ Eᵀ  (symmetric eigen-decomposition)
 *   P = Q E[:, top r],  σ = √Λ  (descending)
 * </pre>
 * Its polynomial in the singular values, σ^(2q+2), is one degree above the direct scheme's.
 * Where ℓ = M the subspace is all of R^M: Q = I, and P is C's top eigenvectors. Forming C
 * squares the singular values, so σ_r/σ_1 below about 10⁻³ (fp32) would lose the tail of the
 * basis; the orthonormalization after every product keeps each step's amplification at
 * (σ_1/σ_ℓ)².
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

    /** For tests: null lets {@link #useGram} choose; true or false forces the Gram or the direct scheme. */
    Boolean forceGram;

    /**
     * Whether the Gram scheme takes fewer floating-point operations than the direct one for an
     * M×N matrix A (the basis side M), ℓ columns and q power iterations. Direct: 2q + 2 GEMMs of
     * 2MNℓ, QRs of q + 1 M×ℓ and q + 1 N×ℓ matrices (4·rows·ℓ² each, factor and form Q) and the
     * ℓ×ℓ SVD. Gram: forming C (2M²N), q + 2 GEMMs of 2M²ℓ, q + 1 M×ℓ QRs and the ℓ×ℓ
     * eigen-problem (or, at ℓ = M, only C's eigen-problem). LAPACK's QR and eigen-solvers run
     * below GEMM speed; both counts weigh them ×2.
     */
    static boolean useGram(long bigM, long bigN, long l, int q) {
        double qrM = 4.0 * bigM * l * l;
        double qrN = 4.0 * bigN * l * l;
        double small = 9.0 * l * l * l;
        double direct = (2.0 * q + 2) * 2.0 * bigM * bigN * l + 2 * ((q + 1) * (qrM + qrN) + small);
        double gram = 2.0 * bigM * bigM * bigN
                + (l == bigM ? 2 * 9.0 * bigM * bigM * bigM
                        : (q + 2) * 2.0 * bigM * bigM * l + 2 * ((q + 1) * qrM + small));
        return gram < direct;
    }

    @Override
    public float[] solve(INDArray g, boolean left, INDArray basisT) {
        int m = (int) g.rows();
        int n = (int) g.columns();
        int bigM = left ? m : n;
        int bigN = left ? n : m;
        int rank = (int) basisT.rows();
        int l = Math.min(rank + oversampling, Math.min(m, n));
        if (forceGram != null ? forceGram : useGram(bigM, bigN, l, powerIterations)) {
            return solveGram(g, left, basisT, bigM, l);
        }

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

    /** The Gram scheme (class comment); ℓ ≤ M. */
    private float[] solveGram(INDArray g, boolean left, INDArray basisT, int bigM, int l) {
        int rank = (int) basisT.rows();
        INDArray c = Nd4j.createUninitialized(DataType.FLOAT, bigM, bigM);
        INDArray qT = l < bigM ? Nd4j.createUninitialized(DataType.FLOAT, l, bigM) : null;
        INDArray yT = l < bigM ? Nd4j.createUninitialized(DataType.FLOAT, l, bigM) : null;
        try (FloatPointer w = new FloatPointer(l)) {
            Nd4j.gemm(g, g, c, !left, left, 1.0, 0.0);          // C = A Aᵀ: G Gᵀ (left) or Gᵀ G (right)
            float[] sigma = new float[l];
            float[] lambda = new float[l];
            if (qT == null) {                                   // ℓ = M: the eigenvectors of C itself
                ++calls;                                        // no draw, but the stream count advances
                Lapack.symmetricEigen(Lapack.pointer(c), bigM, w);
                w.get(lambda);
                FloatBuffer e = c.data().asNioFloat();          // column i of E at e[i·M ..]
                FloatBuffer p = basisT.data().asNioFloat();
                for (int b = 0; b < rank; b++) {
                    int col = bigM - 1 - b;
                    for (int a = 0; a < bigM; a++) {
                        p.put(b * bigM + a, e.get(a + col * bigM));
                    }
                }
            } else {
                fillGaussian(yT, new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * ++calls)));
                Nd4j.gemm(yT, c, qT, false, false, 1.0, 0.0);   // Yᵀ = Ωᵀ C (C symmetric)
                Lapack.orthonormalizeColumns(Lapack.pointer(qT), bigM, l);
                for (int it = 0; it < powerIterations; it++) {
                    Nd4j.gemm(qT, c, yT, false, false, 1.0, 0.0); // Yᵀ = Qᵀ C
                    INDArray swap = qT;
                    qT = yT;
                    yT = swap;
                    Lapack.orthonormalizeColumns(Lapack.pointer(qT), bigM, l);
                }
                Nd4j.gemm(qT, c, yT, false, false, 1.0, 0.0);   // (C Q)ᵀ
                INDArray t = Nd4j.createUninitialized(DataType.FLOAT, l, l);
                INDArray small = Nd4j.createUninitialized(DataType.FLOAT, l, rank);
                try {
                    Nd4j.gemm(qT, yT, t, false, true, 1.0, 0.0); // T = Qᵀ C Q (symmetric)
                    Lapack.symmetricEigen(Lapack.pointer(t), l, w);
                    w.get(lambda);
                    FloatBuffer e = t.data().asNioFloat();
                    FloatBuffer sm = small.data().asNioFloat();
                    for (int a = 0; a < l; a++) {               // small[a][b] = E(a, ℓ−1−b)
                        for (int b = 0; b < rank; b++) {
                            sm.put(a * rank + b, e.get(a + (l - 1 - b) * l));
                        }
                    }
                    Nd4j.gemm(small, qT, basisT, true, false, 1.0, 0.0); // Pᵀ = E_topᵀ Qᵀ
                } finally {
                    t.close();
                    small.close();
                }
            }
            for (int i = 0; i < l; i++) {
                sigma[i] = (float) Math.sqrt(Math.max(0f, lambda[l - 1 - i]));
            }
            return sigma;
        } finally {
            c.close();
            if (qT != null) {
                qT.close();
                yT.close();
            }
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
