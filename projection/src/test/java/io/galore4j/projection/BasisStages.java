package io.galore4j.projection;

import io.galore4j.projection.bench.BasisTiming;
import io.galore4j.projection.bench.GradientLike;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Where the randomized basis's Gram iteration spends its time, stage by stage, on a gradient-like
 * M×N matrix (σ_i ∝ i^−0.5) at rank r (the default oversampling and power iterations): forming
 * C = A Aᵀ (ssyrk), the 5 products with C (ssymm), their 5 Householder orthonormalizations,
 * T = Qᵀ C Q and its eigen-problem; beside the Householder step, CholeskyQR2 (two rounds of ssyrk,
 * spotrf, strsm) on the same matrices as the cheaper alternative (it fails where a product is too
 * ill-conditioned for fp32 Cholesky); then, alternated three times, C's full eigen-problem
 * (ssyevd) and its top r eigenvectors only (the Gram eigen scheme's work beside forming C; all
 * that runs at ℓ = M, where the stages are skipped); C's eigenvalues alone (two-stage reduction,
 * no vectors: a floor for any eigen-solver of C); and ND4J's {@code gesvd} of A (full U and Vᵀ),
 * all in the same process. Each line is one repetition; the first warms up. Lives beside the
 * package-private {@link Lapack}. {@link BasisSchemes} times the schemes whole.
 *
 * <p>Run: {@code java -cp <projection test classpath> io.galore4j.projection.BasisStages M N r}
 * (add {@code -Dorg.bytedeco.openblas.load=mkl_rt} for MKL).
 */
public final class BasisStages {
    private static final int POWER_ITERATIONS = ProjectorConfig.DEFAULT_POWER_ITERATIONS;

    public static void main(String[] args) {
        if (args.length != 3) {
            System.err.println("usage: BasisStages M N r");
            System.exit(2);
        }
        int m = Integer.parseInt(args[0]);
        int n = Integer.parseInt(args[1]);
        int r = Integer.parseInt(args[2]);
        int l = Math.min(m, r + ProjectorConfig.defaultOversampling(r));
        INDArray g = GradientLike.create(m, n, 0.5, 1);
        System.out.printf("%d x %d, r %d, l %d (ms)%n", m, n, r, l);
        int repetitions = l < m ? 4 : 0;
        if (repetitions > 0) {
            System.out.println("gram,products,householder,cholesky_qr2,rayleigh_ritz,eigen_l");
        }
        for (int rep = 0; rep < repetitions; rep++) {
            long t0 = System.nanoTime();
            INDArray c = gram(g, m);
            long t1 = System.nanoTime();
            INDArray qT = Nd4j.rand(DataType.FLOAT, l, m);
            INDArray yT = Nd4j.createUninitialized(DataType.FLOAT, l, m);
            long products = 0;
            long householder = 0;
            long cholesky = 0;
            for (int it = 0; it <= POWER_ITERATIONS; it++) {
                long s0 = System.nanoTime();
                Lapack.symmetricTimes(Lapack.pointer(c), m, Lapack.pointer(qT), l, Lapack.pointer(yT));
                long s1 = System.nanoTime();
                INDArray copy = yT.dup();
                long s2 = System.nanoTime();
                Lapack.orthonormalizeColumns(Lapack.pointer(yT), m, l);
                long s3 = System.nanoTime();
                boolean factored = cholesky >= 0;
                try {
                    choleskyQr(Lapack.pointer(copy), m, l);
                    choleskyQr(Lapack.pointer(copy), m, l);
                } catch (ArithmeticException e) {       // too ill-conditioned for fp32 Cholesky
                    factored = false;
                }
                long s4 = System.nanoTime();
                products += s1 - s0;
                householder += s3 - s2;
                cholesky = factored ? cholesky + s4 - s3 : -1;
                copy.close();
                INDArray swap = qT;
                qT = yT;
                yT = swap;
            }
            long t2 = System.nanoTime();
            INDArray t = Nd4j.createUninitialized(DataType.FLOAT, l, l);
            Lapack.symmetricTimes(Lapack.pointer(c), m, Lapack.pointer(qT), l, Lapack.pointer(yT));
            Nd4j.gemm(qT, yT, t, false, true, 1.0, 0.0);
            long t3 = System.nanoTime();
            try (FloatPointer w = new FloatPointer(l)) {
                Lapack.symmetricEigen(Lapack.pointer(t), l, w);
            }
            long t4 = System.nanoTime();
            System.out.printf("%.1f,%.1f,%.1f,%s,%.1f,%.1f%n", (t1 - t0) / 1e6, products / 1e6, householder / 1e6,
                    cholesky < 0 ? "failed" : String.format("%.1f", cholesky / 1e6), (t3 - t2) / 1e6, (t4 - t3) / 1e6);
            c.close();
            qT.close();
            yT.close();
            t.close();
        }
        for (int rep = 0; rep < 3; rep++) {              // C's whole eigen-problem against its top r, alternated
            INDArray c = gram(g, m);
            long e0 = System.nanoTime();
            try (FloatPointer w = new FloatPointer(m)) {
                Lapack.symmetricEigen(Lapack.pointer(c), m, w);
            }
            long e1 = System.nanoTime();
            c.close();
            c = gram(g, m);
            long e2 = System.nanoTime();
            try (FloatPointer w = new FloatPointer(m); FloatPointer z = new FloatPointer((long) m * m)) {
                Lapack.topEigenvectors(Lapack.pointer(c), m, r, w, z);
            }
            long e3 = System.nanoTime();
            c.close();
            System.out.printf("eigen-problem of C (%d): all vectors (ssyevd) %.1f ms, the top %d (ssytrd, sstedc, sormtr) %.1f ms%n",
                    m, (e1 - e0) / 1e6, r, (e3 - e2) / 1e6);
        }
        INDArray c = gram(g, m);
        long v0 = System.nanoTime();
        try (FloatPointer w = new FloatPointer(m)) {       // the tridiagonal reduction's floor: no vectors
            int info = openblas.LAPACKE_ssyevd_2stage(openblas.LAPACK_COL_MAJOR, (byte) 'N', (byte) 'U', m,
                    Lapack.pointer(c), m, w);
            System.out.printf("eigenvalues of C alone (ssyevd_2stage, info %d) %.1f ms%n", info, (System.nanoTime() - v0) / 1e6);
        }
        c.close();
        System.out.printf("gesvd of A %.1f ms%n", BasisTiming.gesvdMillis(g));
    }

    /** C = A Aᵀ (M×M, upper triangle), as the solver forms it. */
    private static INDArray gram(INDArray g, int m) {
        INDArray c = Nd4j.createUninitialized(DataType.FLOAT, m, m);
        Lapack.gram(g, true, c);
        return c;
    }

    /** One CholeskyQR round on the column-major rows×cols matrix a: R = chol(aᵀa), a ← a R⁻¹. */
    private static void choleskyQr(FloatPointer a, int rows, int cols) {
        try (FloatPointer w = new FloatPointer((long) cols * cols)) {
            openblas.cblas_ssyrk(openblas.CblasColMajor, openblas.CblasUpper, openblas.CblasTrans, cols, rows,
                    1f, a, rows, 0f, w, cols);
            int info = openblas.LAPACKE_spotrf(openblas.LAPACK_COL_MAJOR, (byte) 'U', cols, w, cols);
            if (info != 0) {
                throw new ArithmeticException("spotrf failed with info=" + info);
            }
            openblas.cblas_strsm(openblas.CblasColMajor, openblas.CblasRight, openblas.CblasUpper,
                    openblas.CblasNoTrans, openblas.CblasNonUnit, rows, cols, 1f, w, cols, a, rows);
        }
    }
}
