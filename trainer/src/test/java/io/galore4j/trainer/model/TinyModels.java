package io.galore4j.trainer.model;

import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Fixtures shared by the model tests: a tiny config, weights and batches. */
final class TinyModels {

    /** hidden 16, 2 layers, 2 heads (head size 8), intermediate 24, vocab 11, seq 6. */
    static final ModelConfig TINY = ModelConfig.standard(16, 2, 2, 24, 11, 6);

    private TinyModels() {
    }

    /**
     * Weights with matrices N(0, std²) and gains 1 + 0.2·N(0, 1), so that every gain's gradient is
     * exercised away from the all-ones point.
     */
    static DenseWeights weights(ModelConfig config, DataType type, long seed, double std) {
        DenseWeights w = DenseWeights.initialize(config, type, seed, std);
        SplittableRandom random = new SplittableRandom(seed + 1);
        for (Map.Entry<String, INDArray> e : w.asMap().entrySet()) {
            if (LlamaParameters.isNorm(e.getKey())) {
                INDArray g = e.getValue();
                for (long i = 0; i < g.length(); i++) {
                    g.putScalar(i, 1.0 + 0.2 * random.nextGaussian());
                }
            }
        }
        return w;
    }

    /** A batch of {@code rows} × (seq + 1) uniform random tokens. */
    static int[][] batch(ModelConfig config, int rows, int seq, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[][] batch = new int[rows][seq + 1];
        for (int[] row : batch) {
            for (int t = 0; t < row.length; t++) {
                row[t] = random.nextInt(config.vocab());
            }
        }
        return batch;
    }

    /** Deep copy of the weights (same order). */
    static DenseWeights copy(DenseWeights w) {
        Map<String, INDArray> m = new java.util.LinkedHashMap<>();
        w.asMap().forEach((k, v) -> m.put(k, v.dup('c')));
        return new DenseWeights(m);
    }

    static double maxAbsDiff(INDArray a, INDArray b) {
        return a.castTo(DataType.DOUBLE).sub(b.castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
    }
}
