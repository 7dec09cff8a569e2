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
        Elements g = Elements.of(gain);
        Elements ys = Elements.of(y);
        double[] gv = new double[cols];
        for (int j = 0; j < cols; j++) {
            gv[j] = g.get(j);
        }
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            double sum = 0;
            for (int j = 0; j < cols; j++) {
                double v = xs.get(base + j);
                sum += v * v;
            }
            double inv = 1.0 / Math.sqrt(sum / cols + eps);
            invRms[r] = inv;
            for (int j = 0; j < cols; j++) {
                ys.set(base + j, gv[j] * xs.get(base + j) * inv);
            }
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
        Elements g = Elements.of(gain);
        double[] gv = new double[cols];
        for (int j = 0; j < cols; j++) {
            gv[j] = g.get(j);
        }
        double[] dg = new double[cols];
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            double inv = invRms[r];
            double dot = 0;
            for (int j = 0; j < cols; j++) {
                double d = dys.get(base + j);
                double v = xs.get(base + j);
                dot += gv[j] * d * v;
                dg[j] += d * v * inv;
            }
            double c = inv * inv * inv * dot / cols;
            for (int j = 0; j < cols; j++) {
                dxs.add(base + j, inv * gv[j] * dys.get(base + j) - c * xs.get(base + j));
            }
        }
        Elements dgs = Elements.of(dGain);
        for (int j = 0; j < cols; j++) {
            dgs.set(j, dg[j]);
        }
    }
}
