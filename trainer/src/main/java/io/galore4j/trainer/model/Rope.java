package io.galore4j.trainer.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Rotary position embedding (Su et al. 2021, RoFormer eq. 34) in the Hugging Face LLaMA
 * "rotate_half" convention: within a head of size d, element i is paired with element i + d/2
 * (not with its neighbour 2i+1 as in Meta's original complex-number code), with angle
 * t·θ^(−2i/d) at position t:
 * <pre>
 *   out[i]       = x[i] cos − x[i + d/2] sin
 *   out[i + d/2] = x[i + d/2] cos + x[i] sin        (i &lt; d/2)
 * </pre>
 * so weights exported under HF names need no permutation of q_proj / k_proj rows.
 *
 * <p>Besides rotating, the methods move between the row layout [B·T, heads·d] of the projections
 * and the head-major layout [B·heads, T, d] of the batched attention products.
 */
final class Rope {

    private final int heads;
    private final int headDim;
    private final double[] cos;
    private final double[] sin;

    /** Tables for positions 0…maxLen−1 (row t holds d/2 angles). */
    Rope(int heads, int headDim, int maxLen, double theta) {
        this.heads = heads;
        this.headDim = headDim;
        int half = headDim / 2;
        cos = new double[maxLen * half];
        sin = new double[maxLen * half];
        for (int t = 0; t < maxLen; t++) {
            for (int i = 0; i < half; i++) {
                double angle = t * Math.pow(theta, -2.0 * i / headDim);
                cos[t * half + i] = Math.cos(angle);
                sin[t * half + i] = Math.sin(angle);
            }
        }
    }

    /** heads[b·H + h, t, :] = rotate(flat[b·T + t, h·d : (h+1)·d], t). */
    void rotateToHeads(INDArray flat, int batch, int seq, INDArray headMajor) {
        permute(flat, batch, seq, headMajor, +1, true);
    }

    /** Transposed rotation (the backward of {@link #rotateToHeads}), head-major back to rows. */
    void unrotateFromHeads(INDArray headMajor, int batch, int seq, INDArray flat) {
        permute(headMajor, batch, seq, flat, -1, false);
    }

    /** Plain layout change without rotation (for V), in either direction. */
    void copyToHeads(INDArray flat, int batch, int seq, INDArray headMajor) {
        permute(flat, batch, seq, headMajor, 0, true);
    }

    /** Plain layout change without rotation, head-major back to rows. */
    void copyFromHeads(INDArray headMajor, int batch, int seq, INDArray flat) {
        permute(headMajor, batch, seq, flat, 0, false);
    }

    /** sign +1 rotates by +angle, −1 by −angle (the transpose), 0 only moves. */
    private void permute(INDArray src, int batch, int seq, INDArray dst, int sign, boolean toHeads) {
        Elements in = Elements.of(src);
        Elements out = Elements.of(dst);
        int half = headDim / 2;
        int width = heads * headDim;
        double[] a = Elements.buffer(0, width);
        double[] b = Elements.buffer(1, width);
        for (int bt = 0; bt < batch * seq; bt++) {
            int t = bt % seq;
            int headRow = (bt / seq) * heads * seq + t; // row of head 0 in [B·heads, T, d]
            if (toHeads) {
                in.read(bt * width, width, a, 0);
            } else {
                for (int h = 0; h < heads; h++) {
                    in.read((headRow + h * seq) * headDim, headDim, a, h * headDim);
                }
            }
            double[] result = a; // sign 0 only moves: write the row as read
            if (sign != 0) {
                result = b;
                for (int h = 0; h < heads; h++) {
                    int o = h * headDim;
                    for (int i = 0; i < half; i++) {
                        double c = cos[t * half + i];
                        double s = sign * sin[t * half + i];
                        double x1 = a[o + i];
                        double x2 = a[o + i + half];
                        b[o + i] = x1 * c - x2 * s;
                        b[o + i + half] = x2 * c + x1 * s;
                    }
                }
            }
            if (toHeads) {
                for (int h = 0; h < heads; h++) {
                    out.write(result, h * headDim, headDim, (headRow + h * seq) * headDim);
                }
            } else {
                out.write(result, 0, width, bt * width);
            }
        }
    }
}
