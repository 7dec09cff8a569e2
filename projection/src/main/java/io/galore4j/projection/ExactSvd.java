package io.galore4j.projection;

import java.nio.FloatBuffer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The exact basis: a thin SVD of G by LAPACK's divide and conquer (sgesdd, jobz='S'), which forms
 * only the k = min(m, n) leading columns of U and V, never the full square factors.
 *
 * <p>The c-order m×n buffer of G is the column-major n×m matrix X = Gᵀ. From X = U_X Σ V_Xᵀ:
 * V_G = U_X (n×k, column i contiguous) and U_G = V_X, whose transpose V_Xᵀ (k×m, column-major) LAPACK
 * returns. So no transposing copy of G is needed, only the one copy sgesdd destroys.
 */
final class ExactSvd implements BasisSolver {

    @Override
    public float[] solve(INDArray g, boolean left, INDArray basisT) {
        int m = (int) g.rows();
        int n = (int) g.columns();
        int k = Math.min(m, n);
        int rank = (int) basisT.rows();
        long bytes = 4L * m * n;
        try (FloatPointer x = new FloatPointer((long) m * n);
                FloatPointer s = new FloatPointer(k);
                FloatPointer u = new FloatPointer((long) n * k);
                FloatPointer vt = new FloatPointer((long) k * m)) {
            Pointer.memcpy(x, Lapack.pointer(g), bytes);
            Lapack.thinSvd(x, n, m, s, u, vt);
            FloatBuffer out = basisT.data().asNioFloat();
            if (left) {
                // U_G[:, i] = V_X[:, i] = row i of V_Xᵀ: element (i, j) at i + j*k (column-major k×m)
                FloatBuffer v = vt.capacity((long) k * m).asBuffer();
                for (int i = 0; i < rank; i++) {
                    for (int j = 0; j < m; j++) {
                        out.put(i * m + j, v.get(i + j * k));
                    }
                }
            } else {
                // V_G[:, i] = U_X[:, i], contiguous at i*n
                FloatBuffer uu = u.capacity((long) n * k).asBuffer();
                for (int i = 0; i < rank * n; i++) {
                    out.put(i, uu.get(i));
                }
            }
            float[] sigma = new float[k];
            s.capacity(k).get(sigma);
            return sigma;
        }
    }
}
