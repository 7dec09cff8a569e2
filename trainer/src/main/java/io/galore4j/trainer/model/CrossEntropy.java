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
        double total = 0;
        double invN = 1.0 / rows;
        for (int r = 0; r < rows; r++) {
            int base = r * vocab;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < vocab; j++) {
                max = Math.max(max, z.get(base + j));
            }
            double sum = 0;
            for (int j = 0; j < vocab; j++) {
                sum += Math.exp(z.get(base + j) - max);
            }
            double logSumExp = max + Math.log(sum);
            total += logSumExp - z.get(base + targets[r]);
            if (gradient) {
                for (int j = 0; j < vocab; j++) {
                    z.set(base + j, Math.exp(z.get(base + j) - logSumExp) * invN);
                }
                z.add(base + targets[r], -invN);
            }
        }
        return total * invN;
    }
}
