package io.galore4j.projection;

import java.nio.FloatBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Fixes the signs of a new basis. Singular vectors are defined up to sign, and LAPACK builds
 * (MKL, OpenBLAS) choose differently; with {@code on_refresh: keep} the optimizer's moments, kept in
 * the old basis's coordinates, meet the new basis's signs, so without a convention a run would
 * depend on the BLAS from its second refresh on. Every solver's output passes through here before
 * it is stored (and before an INT4 basis is quantized). For each row p_i of the new Pᵀ:
 * <ul>
 *   <li>with a previous basis: p_i is negated if p_iᵀ q_i &lt; 0, where q_i is row i of the
 *       previous Pᵀ <em>as the layer keeps it</em>: the fp32 basis itself, or for an INT4 basis its
 *       decoded codes (the basis the moments were accumulated in; the fp32 original is not kept);</li>
 *   <li>for a layer's first basis, or where p_iᵀ q_i is exactly 0: p_i is negated if its
 *       largest-magnitude component is negative (on ties, the lowest index counts).</li>
 * </ul>
 * The sum p_iᵀ q_i is accumulated in double, in index order.
 */
final class SignConvention {
    private SignConvention() {}

    /**
     * Applies the convention to {@code freshT} (r×d, contiguous c-order fp32) in place, against
     * {@code previousT} (the same shape, or null for a layer's first basis).
     */
    static void apply(INDArray freshT, INDArray previousT) {
        int rows = (int) freshT.rows();
        int d = (int) freshT.columns();
        FloatBuffer p = freshT.data().asNioFloat();
        int off = (int) freshT.offset();
        FloatBuffer q = previousT == null ? null : previousT.data().asNioFloat();
        int qOff = previousT == null ? 0 : (int) previousT.offset();
        for (int i = 0; i < rows; i++) {
            int row = off + i * d;
            double dot = 0;
            if (q != null) {
                int qRow = qOff + i * d;
                for (int j = 0; j < d; j++) {
                    dot += (double) p.get(row + j) * q.get(qRow + j);
                }
            }
            if (dot == 0) {
                dot = largestComponent(p, row, d);
            }
            if (dot < 0) {
                for (int j = 0; j < d; j++) {
                    p.put(row + j, -p.get(row + j));
                }
            }
        }
    }

    /** The component of largest magnitude of the d values from {@code start}; the first such on ties. */
    private static float largestComponent(FloatBuffer b, int start, int d) {
        float best = 0;
        for (int j = 0; j < d; j++) {
            float v = b.get(start + j);
            if (Math.abs(v) > Math.abs(best)) {
                best = v;
            }
        }
        return best;
    }
}
