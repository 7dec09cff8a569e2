package io.galore4j.trainer.model;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The core of causal scaled dot-product attention (Vaswani et al. 2017, eq. 1) over head-major
 * arrays [B·heads, T, d]: S = Q Kᵀ / √d, P = softmax(S) over keys j ≤ query t (the causal mask:
 * P[t, j] = 0 for j &gt; t), O = P V. The two products per (batch, head) run as one batched
 * {@code Nd4j.matmul} on rank-3 arrays.
 */
final class CausalAttention {

    private CausalAttention() {
    }

    /** Fills {@code p} with the attention probabilities and {@code o} with P V. */
    static void forward(INDArray q, INDArray k, INDArray v, INDArray p, INDArray o) {
        Nd4j.matmul(q, k, p, false, true, false);
        softmaxCausal(p, 1.0 / Math.sqrt(q.size(2)));
        Nd4j.matmul(p, v, o, false, false, false);
    }

    /**
     * Backward: dP = dO Vᵀ, dV = Pᵀ dO, dS = P ⊙ (dP − rowsum(P ⊙ dP)) / √d (softmax Jacobian;
     * masked entries have P = 0 and get 0), dQ = dS K, dK = dSᵀ Q. {@code dP} is scratch.
     */
    static void backward(INDArray dO, INDArray q, INDArray k, INDArray v, INDArray p, INDArray dP,
                         INDArray dQ, INDArray dK, INDArray dV) {
        Nd4j.matmul(dO, v, dP, false, true, false);
        Nd4j.matmul(p, dO, dV, true, false, false);
        softmaxBackward(p, dP, 1.0 / Math.sqrt(q.size(2)));
        Nd4j.matmul(dP, k, dQ, false, false, false);
        Nd4j.matmul(dP, q, dK, true, false, false);
    }

    /** In place: s[t, j] ← softmax_j≤t(scale · s[t, ·]), and 0 for j &gt; t. */
    private static void softmaxCausal(INDArray s, double scale) {
        Elements e = Elements.of(s);
        int seq = (int) s.size(1);
        int rows = (int) s.size(0) * seq;
        int chunkRows = Elements.rowsPerChunk(seq);
        double[] x = Elements.buffer(0, chunkRows * seq);
        for (int r0 = 0; r0 < rows; r0 += chunkRows) {
            int nr = Math.min(chunkRows, rows - r0);
            e.read(r0 * seq, nr * seq, x, 0);
            for (int r = 0; r < nr; r++) {
                int t = (r0 + r) % seq;
                int row = r * seq;
                double max = Elements.max(x, row, t + 1);
                // scale > 0, so the largest scaled score is scale · max
                Exp.affine(x, row, t + 1, scale, -scale * max);
                double inv = 1.0 / Elements.sum(x, row, t + 1);
                for (int j = 0; j <= t; j++) {
                    x[row + j] *= inv;
                }
                java.util.Arrays.fill(x, row + t + 1, row + seq, 0.0);
            }
            e.write(x, 0, nr * seq, r0 * seq);
        }
    }

    /** In place on dP: dS = scale · P ⊙ (dP − Σ_j P dP) over the unmasked keys. */
    private static void softmaxBackward(INDArray p, INDArray dP, double scale) {
        Elements ps = Elements.of(p);
        Elements ds = Elements.of(dP);
        int seq = (int) p.size(1);
        int rows = (int) p.size(0) * seq;
        int chunkRows = Elements.rowsPerChunk(seq);
        double[] pb = Elements.buffer(0, chunkRows * seq);
        double[] db = Elements.buffer(1, chunkRows * seq);
        for (int r0 = 0; r0 < rows; r0 += chunkRows) {
            int nr = Math.min(chunkRows, rows - r0);
            ps.read(r0 * seq, nr * seq, pb, 0);
            ds.read(r0 * seq, nr * seq, db, 0);
            for (int r = 0; r < nr; r++) {
                int t = (r0 + r) % seq;
                int row = r * seq;
                double dot = 0;
                for (int j = 0; j <= t; j++) {
                    dot += pb[row + j] * db[row + j];
                }
                for (int j = 0; j <= t; j++) {
                    db[row + j] = scale * pb[row + j] * (db[row + j] - dot);
                }
                java.util.Arrays.fill(db, row + t + 1, row + seq, 0.0);
            }
            ds.write(db, 0, nr * seq, r0 * seq);
        }
    }
}
