package io.galore4j.trainer.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * RMSNorm (Zhang &amp; Sennrich 2019), as in LLaMA: y = g ⊙ x · r with
 * r = 1/√(mean(x²) + ε), per row of a [rows, H] array, no bias and no mean subtraction.
 */
final class RmsNorm {

    private RmsNorm() {
    }

    /** y = g ⊙ x · r for every row; stores r per row in {@code invRms}. */
    static void forward(INDArray x, INDArray gain, double eps, INDArray y, double[] invRms) {
        int cols = (int) x.size(1);
        int rows = (int) x.size(0);
        Elements xs = Elements.of(x);
        Elements ys = Elements.of(y);
        double[] gv = Elements.buffer(0, cols);
        Elements.of(gain).read(0, cols, gv, 0);
        int chunkRows = Elements.rowsPerChunk(cols);
        double[] xb = Elements.buffer(1, chunkRows * cols);
        for (int r0 = 0; r0 < rows; r0 += chunkRows) {
            int nr = Math.min(chunkRows, rows - r0);
            xs.read(r0 * cols, nr * cols, xb, 0);
            for (int r = 0; r < nr; r++) {
                int base = r * cols;
                double sum = 0;
                for (int j = 0; j < cols; j++) {
                    sum += xb[base + j] * xb[base + j];
                }
                double inv = 1.0 / Math.sqrt(sum / cols + eps);
                invRms[r0 + r] = inv;
                for (int j = 0; j < cols; j++) {
                    xb[base + j] = gv[j] * xb[base + j] * inv;
                }
            }
            ys.write(xb, 0, nr * cols, r0 * cols);
        }
    }

    /**
     * Backward of {@link #forward}: dg_j = Σ_rows dy_j x_j r, and
     * dx_j += r g_j dy_j − r³ x_j / H · Σ_k g_k dy_k x_k (added to {@code dx}).
     * Reads the gain before returning; the caller hands {@code dGain} over afterwards.
     */
    static void backward(INDArray dy, INDArray x, double[] invRms, INDArray gain, INDArray dx, INDArray dGain) {
        int cols = (int) x.size(1);
        int rows = (int) x.size(0);
        Elements dys = Elements.of(dy);
        Elements xs = Elements.of(x);
        Elements dxs = Elements.of(dx);
        double[] gv = Elements.buffer(0, cols);
        Elements.of(gain).read(0, cols, gv, 0);
        double[] dg = new double[cols];
        int chunkRows = Elements.rowsPerChunk(cols);
        double[] db = Elements.buffer(1, chunkRows * cols);
        double[] xb = Elements.buffer(2, chunkRows * cols);
        double[] ob = Elements.buffer(3, chunkRows * cols);
        for (int r0 = 0; r0 < rows; r0 += chunkRows) {
            int nr = Math.min(chunkRows, rows - r0);
            dys.read(r0 * cols, nr * cols, db, 0);
            xs.read(r0 * cols, nr * cols, xb, 0);
            dxs.read(r0 * cols, nr * cols, ob, 0);
            for (int r = 0; r < nr; r++) {
                int base = r * cols;
                double inv = invRms[r0 + r];
                double dot = 0;
                for (int j = 0; j < cols; j++) {
                    double d = db[base + j];
                    double v = xb[base + j];
                    dot += gv[j] * d * v;
                    dg[j] += d * v * inv;
                }
                double c = inv * inv * inv * dot / cols;
                for (int j = 0; j < cols; j++) {
                    ob[base + j] += inv * gv[j] * db[base + j] - c * xb[base + j];
                }
            }
            dxs.write(ob, 0, nr * cols, r0 * cols);
        }
        Elements.of(dGain).write(dg, 0, cols, 0);
    }
}
