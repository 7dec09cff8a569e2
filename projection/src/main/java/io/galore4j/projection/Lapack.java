package io.galore4j.projection;

import static org.bytedeco.openblas.global.openblas.CblasColMajor;
import static org.bytedeco.openblas.global.openblas.CblasLeft;
import static org.bytedeco.openblas.global.openblas.CblasLower;
import static org.bytedeco.openblas.global.openblas.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas.CblasTrans;
import static org.bytedeco.openblas.global.openblas.CblasUpper;
import static org.bytedeco.openblas.global.openblas.LAPACK_COL_MAJOR;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The BLAS and LAPACK routines the basis computations need, called through JavaCPP's OpenBLAS
 * preset on raw fp32 memory (docs/design.md §5: ND4J's own {@code gesvd} always forms the full U and
 * Vᵀ and its {@code qr} op is very slow).
 *
 * <p>Every matrix here is column-major. A row-major (c-order) k×K ND4J array is, read
 * column-major, the K×k matrix of its transpose; the callers use that to avoid copies.
 */
final class Lapack {
    private Lapack() {}

    /** A pointer to the first element of a contiguous fp32 array (view offset included). */
    static FloatPointer pointer(INDArray a) {
        if (a.dataType() != DataType.FLOAT || a.ordering() != 'c' || a.isView()) {
            throw new IllegalStateException("expected a contiguous c-order FLOAT array, got " + a.shapeInfoToString());
        }
        FloatPointer p = new FloatPointer(a.data().addressPointer());
        return p.position(p.position() + a.offset());
    }

    /**
     * The Gram matrix C = A Aᵀ (M×M) of A = G (left: M = rows of G) or A = Gᵀ (right: M = its
     * columns), G a contiguous c-order fp32 array, by ssyrk: half the operations of a general
     * product. Only C's upper triangle, read column-major, is written; {@link #symmetricTimes},
     * {@link #symmetricEigen} and {@link #topEigenvectors} read only that triangle.
     */
    static void gram(INDArray g, boolean left, INDArray c) {
        int rows = (int) g.rows();
        int cols = (int) g.columns();
        int bigM = left ? rows : cols;
        int bigN = left ? cols : rows;
        if (c.rows() != bigM || c.columns() != bigM) {
            throw new IllegalArgumentException("Gram matrix must be " + bigM + "x" + bigM + ", got " + c.shapeInfoToString());
        }
        // row-major lower triangle = column-major upper triangle
        openblas.cblas_ssyrk(CblasRowMajor, CblasLower, left ? CblasNoTrans : CblasTrans, bigM, bigN,
                1f, pointer(g), cols, 0f, pointer(c), bigM);
    }

    /**
     * Y = C X for the symmetric column-major M×M matrix {@code c} (its upper triangle is read) and
     * the column-major M×k matrices X and Y (ld = M), by ssymm.
     */
    static void symmetricTimes(FloatPointer c, int bigM, FloatPointer x, int k, FloatPointer y) {
        openblas.cblas_ssymm(CblasColMajor, CblasLeft, CblasUpper, bigM, k, 1f, c, bigM, x, bigM, 0f, y, bigM);
    }

    /**
     * Replaces the columns of the column-major rows×cols matrix {@code a} (rows ≥ cols) by an
     * orthonormal basis of their span: Householder QR (sgeqrf) and forming Q (sorgqr).
     */
    static void orthonormalizeColumns(FloatPointer a, int rows, int cols) {
        try (FloatPointer tau = new FloatPointer(cols)) {
            check("sgeqrf", openblas.LAPACKE_sgeqrf(LAPACK_COL_MAJOR, rows, cols, a, rows, tau));
            check("sorgqr", openblas.LAPACKE_sorgqr(LAPACK_COL_MAJOR, rows, cols, cols, a, rows, tau));
        }
    }

    /** In-place Householder QR (sgeqrf) of a column-major rows×cols matrix; R is its upper triangle. */
    static void qrFactor(FloatPointer a, int rows, int cols) {
        try (FloatPointer tau = new FloatPointer(Math.min(rows, cols))) {
            check("sgeqrf", openblas.LAPACKE_sgeqrf(LAPACK_COL_MAJOR, rows, cols, a, rows, tau));
        }
    }

    /**
     * Thin SVD A = U diag(s) Vᵀ of the column-major rows×cols matrix {@code a} (destroyed) by
     * divide and conquer (sgesdd, jobz='S'): k = min(rows, cols) singular values in {@code s},
     * U rows×k (ldu = rows) and Vᵀ k×cols (ldvt = k), both column-major.
     */
    static void thinSvd(FloatPointer a, int rows, int cols, FloatPointer s, FloatPointer u, FloatPointer vt) {
        int k = Math.min(rows, cols);
        check("sgesdd", openblas.LAPACKE_sgesdd(LAPACK_COL_MAJOR, (byte) 'S', rows, cols, a, rows, s, u, rows, vt, k));
    }

    /**
     * Eigen-decomposition of the symmetric column-major n×n matrix {@code a} (its upper triangle
     * is read) by divide and conquer (ssyevd, jobz='V'): eigenvalues ascending in {@code w},
     * the orthonormal eigenvectors replace {@code a}, column i for w[i].
     */
    static void symmetricEigen(FloatPointer a, int n, FloatPointer w) {
        check("ssyevd", openblas.LAPACKE_ssyevd(LAPACK_COL_MAJOR, (byte) 'V', (byte) 'U', n, a, n, w));
    }

    /**
     * The eigenvectors of the {@code top} largest eigenvalues of the symmetric column-major n×n
     * matrix {@code a} (its upper triangle is read; destroyed): ssyevd's steps, less the
     * back-transformation of the other n − top: the Householder tridiagonal reduction (ssytrd),
     * every eigenvector of the tridiagonal matrix by divide and conquer (sstedc), and the
     * reflectors applied (sormtr) to only the last {@code top} of them. Eigenvalues ascending in
     * {@code w} (n); in the column-major n×n {@code z}, columns n − top .. n − 1 are the
     * eigenvectors of {@code a} for w[n − top .. n − 1], the others those of the tridiagonal matrix.
     */
    static void topEigenvectors(FloatPointer a, int n, int top, FloatPointer w, FloatPointer z) {
        try (FloatPointer e = new FloatPointer(Math.max(1, n - 1));
                FloatPointer tau = new FloatPointer(Math.max(1, n - 1))) {
            check("ssytrd", openblas.LAPACKE_ssytrd(LAPACK_COL_MAJOR, (byte) 'U', n, a, n, w, e, tau));
            check("sstedc", openblas.LAPACKE_sstedc(LAPACK_COL_MAJOR, (byte) 'I', n, w, e, z, n));
            FloatPointer last = new FloatPointer(z).position(z.position() + (long) (n - top) * n);
            check("sormtr", openblas.LAPACKE_sormtr(LAPACK_COL_MAJOR, (byte) 'L', (byte) 'U', (byte) 'N', n, top,
                    a, n, tau, last, n));
        }
    }

    private static void check(String routine, int info) {
        if (info != 0) {
            throw new ArithmeticException(routine + " failed with info=" + info
                    + (info > 0 ? " (did not converge)" : " (bad argument " + (-info) + ")"));
        }
    }
}
