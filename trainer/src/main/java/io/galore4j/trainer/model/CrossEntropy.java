package io.galore4j.trainer.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Softmax cross-entropy of next-token prediction, in nats, averaged over all B·T positions:
 * L = (1/N) Σ_n [logsumexp(z_n) − z_n[y_n]]; its gradient is dz_n = (softmax(z_n) − onehot(y_n)) / N.
 */
final class CrossEntropy {

    private CrossEntropy() {
    }

    /**
     * The mean loss of {@code logits} [N, V] against {@code targets} (length N). When
     * {@code gradient} is true the logits are replaced in place by dL/dlogits.
     */
    static double lossAndGradient(INDArray logits, int[] targets, boolean gradient) {
        int rows = (int) logits.size(0);
        int vocab = (int) logits.size(1);
        Elements z = Elements.of(logits);
        int chunkRows = Elements.rowsPerChunk(vocab);
        double[] x = Elements.buffer(0, chunkRows * vocab);
        double total = 0;
        double invN = 1.0 / rows;
        for (int r0 = 0; r0 < rows; r0 += chunkRows) {
            int nr = Math.min(chunkRows, rows - r0);
            z.read(r0 * vocab, nr * vocab, x, 0);
            for (int r = 0; r < nr; r++) {
                int base = r * vocab;
                double max = Elements.max(x, base, vocab);
                int target = targets[r0 + r];
                double targetLogit = x[base + target];
                Exp.affine(x, base, vocab, 1.0, -max);
                double sum = Elements.sum(x, base, vocab);
                total += max + Math.log(sum) - targetLogit;
                if (gradient) {
                    double scale = invN / sum;
                    for (int j = 0; j < vocab; j++) {
                        x[base + j] *= scale;
                    }
                    x[base + target] -= invN;
                }
            }
            if (gradient) {
                z.write(x, 0, nr * vocab, r0 * vocab);
            }
        }
        return total * invN;
    }
}
