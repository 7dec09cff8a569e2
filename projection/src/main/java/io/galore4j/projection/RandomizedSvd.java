package io.galore4j.projection;

import java.nio.FloatBuffer;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
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
 * <p>When it costs less ({@link #choose}: ℓ large against M, as at the papers' ranks), the same
 * subspace iteration runs on the Gram matrix C = A Aᵀ (M×M), formed once by ssyrk (Halko et al.
 * §4.5 note that (A Aᵀ)^q A Ω is the power scheme):
 * <pre>
 *   Ω ~ N(0, 1)^{M×ℓ};  Q = orth(C Ω);  q times:  Q = orth(C Q)
 *   T = Qᵀ C Q  (ℓ×ℓ);  T = E Λ Eᵀ  (symmetric eigen-decomposition)
 *   P = Q E[:, top r],  σ = √Λ  (descending)
 * </pre>
 * Its polynomial in the singular values, σ^(2q+2), is one degree above the direct scheme's.
 * Where ℓ = M the subspace is all of R^M: Q = I, and P is C's top r eigenvectors. Those, with
 * no draw and no iteration, are also taken where the cost model finds them cheaper than
 * iterating ({@link #choose}: ℓ a large part of M, up to M = 2048 here; C's reduction to
 * tridiagonal form costs more per M³ as M grows, so at M = 4096 iterating stays cheaper). Forming C
 * squares the singular values, so σ_r/σ_1 below about 10⁻³ (fp32) would lose the tail of the
 * basis; the orthonormalization after every product keeps each step's amplification at
 * (σ_1/σ_ℓ)².
 */
final class RandomizedSvd implements BasisSolver {
    /** The fixed cost of one column step of sgeqrf, and of ssytrd with sstedc, in GEMM operations ({@link #choose}). */
    private static final double QR_COLUMN = 1.7e6;
    private static final double EIGEN_COLUMN = 2.2e6;

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

    /** The three ways {@link #solve} can compute the basis (class comment); {@link #choose} picks one. */
    enum Scheme {
        /** Subspace iteration on A itself. */
        DIRECT,
        /** Subspace iteration on the Gram matrix C = A Aᵀ, then an ℓ×ℓ eigen-problem. */
        GRAM_ITERATION,
        /** C's top r eigenvectors (its eigen-decomposition less the other vectors): no draw, no iteration. */
        GRAM_EIGEN
    }

    /** For tests: null lets {@link #choose} decide; otherwise the scheme to run. */
    Scheme force;

    /**
     * The scheme with the lowest estimated cost for a rank-r basis of an M×M problem (the basis
     * side M, the other side N), ℓ columns and q power iterations, in GEMM operations, each
     * routine weighed by how fast it ran relative to GEMM on MKL ({@code BasisSchemes},
     * {@code BasisStages}; docs/design.md §3.1, the timings in docs/benchmarks.md):
     * <ul>
     *   <li>direct: 2q + 2 GEMMs of 2MNℓ; QRs of q + 1 M×ℓ and q + 1 N×ℓ matrices (4·rows·ℓ²
     *       each, factor and form Q, ×1.8, plus a fixed 10 µs ≈ 1.7 MFLOP per column: the
     *       thread hand-offs of sgeqrf's column steps); the ℓ×ℓ SVD (9ℓ³, ×2);</li>
     *   <li>Gram iteration: C by ssyrk (M²N at about ¾ of GEMM speed: 1.5M²N); q + 2 products
     *       of 2M²ℓ; q + 1 M×ℓ QRs (as above); the ℓ×ℓ eigen-problem (9ℓ³);</li>
     *   <li>Gram eigen: C; the tridiagonal reduction and its divide and conquer,
     *       (1.5 + 3.3·(M/2048)^1.75)·M³ (the reduction is bound by memory, so its cost per M³
     *       grows with M) plus a fixed 13 µs ≈ 2.2 MFLOP
     *       per column (which dominates at M = 512); the back-transformation of r vectors
     *       (2M²r, ×1.6). Always the choice at ℓ = M.</li>
     * </ul>
     */
    static Scheme choose(long bigM, long bigN, long rank, long l, int q) {
        double qrM = 1.8 * 4.0 * bigM * l * l + QR_COLUMN * l;
        double qrN = 1.8 * 4.0 * bigN * l * l + QR_COLUMN * l;
        double direct = (2.0 * q + 2) * 2.0 * bigM * bigN * l + (q + 1) * (qrM + qrN) + 2 * 9.0 * l * l * l;
        double gram = 1.5 * bigM * bigM * bigN;
        double cube = (double) bigM * bigM * bigM;
        double eigen = gram + (1.5 + 3.3 * Math.pow(bigM / 2048.0, 1.75)) * cube + EIGEN_COLUMN * bigM
                + 1.6 * 2.0 * bigM * bigM * rank;
        double iteration = gram + (q + 2) * 2.0 * bigM * bigM * l + (q + 1) * qrM + 9.0 * l * l * l;
        if (l >= bigM || eigen <= Math.min(iteration, direct)) {
            return Scheme.GRAM_EIGEN;
        }
        return iteration < direct ? Scheme.GRAM_ITERATION : Scheme.DIRECT;
    }

    @Override
    public float[] solve(INDArray g, boolean left, INDArray basisT) {
        int m = (int) g.rows();
        int n = (int) g.columns();
        int bigM = left ? m : n;
        int bigN = left ? n : m;
        int rank = (int) basisT.rows();
        int l = Math.min(rank + oversampling, Math.min(m, n));
        Scheme scheme = force != null ? force : choose(bigM, bigN, rank, l, powerIterations);
        if (scheme != Scheme.DIRECT) {
            return solveGram(g, left, basisT, bigM, scheme == Scheme.GRAM_EIGEN ? bigM : l);
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

    /** The Gram schemes (class comment): iteration with ℓ < M columns, or C's eigen-problem at ℓ = M. */
    private float[] solveGram(INDArray g, boolean left, INDArray basisT, int bigM, int l) {
        int rank = (int) basisT.rows();
        INDArray c = Nd4j.createUninitialized(DataType.FLOAT, bigM, bigM);
        INDArray qT = l < bigM ? Nd4j.createUninitialized(DataType.FLOAT, l, bigM) : null;
        INDArray yT = l < bigM ? Nd4j.createUninitialized(DataType.FLOAT, l, bigM) : null;
        try (FloatPointer w = new FloatPointer(l)) {
            Lapack.gram(g, left, c);                            // C = A Aᵀ (upper triangle)
            FloatPointer cp = Lapack.pointer(c);
            float[] sigma = new float[l];
            float[] lambda = new float[l];
            if (qT == null) {                                   // ℓ = M: the eigenvectors of C itself
                ++calls;                                        // no draw, but the stream count advances
                try (FloatPointer e = new FloatPointer((long) bigM * bigM)) {
                    Lapack.topEigenvectors(cp, bigM, rank, w, e); // w: all M eigenvalues, ascending
                    w.get(lambda);
                    FloatPointer p = Lapack.pointer(basisT);
                    long bytes = 4L * bigM;
                    for (int b = 0; b < rank; b++) {           // row b of Pᵀ = column M−1−b of E, contiguous
                        Pointer.memcpy(p.getPointer(FloatPointer.class, (long) b * bigM),
                                e.getPointer(FloatPointer.class, (long) (bigM - 1 - b) * bigM), bytes);
                    }
                }
            } else {
                fillGaussian(yT, new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * ++calls)));
                Lapack.symmetricTimes(cp, bigM, Lapack.pointer(yT), l, Lapack.pointer(qT)); // Y = C Ω
                Lapack.orthonormalizeColumns(Lapack.pointer(qT), bigM, l);
                for (int it = 0; it < powerIterations; it++) {
                    Lapack.symmetricTimes(cp, bigM, Lapack.pointer(qT), l, Lapack.pointer(yT)); // Y = C Q
                    INDArray swap = qT;
                    qT = yT;
                    yT = swap;
                    Lapack.orthonormalizeColumns(Lapack.pointer(qT), bigM, l);
                }
                Lapack.symmetricTimes(cp, bigM, Lapack.pointer(qT), l, Lapack.pointer(yT)); // C Q
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
