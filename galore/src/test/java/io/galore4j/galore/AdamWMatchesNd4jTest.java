package io.galore4j.galore;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.AdamUpdater;
import org.nd4j.linalg.learning.config.Adam;

/**
 * Full-rank AdamW equals ND4J's Adam updater plus decoupled weight decay over several steps:
 * W ← W − u_ND4J − η λ W. ND4J puts ε outside the bias correction (η√(1−β2ᵗ)/(1−β1ᵗ)·m/(√v+ε));
 * here N = M̂/(√V̂ + ε): the two differ by ε(1/√(1−β2ᵗ) − 1) in the denominator, which with
 * ε = 1e-8 reaches 1e-3 relative for the smallest gradient entries (measured: 1.6e-4 overall at
 * step 1). The test therefore uses ε = 1e-12 in both, where the placement no longer matters.
 */
class AdamWMatchesNd4jTest {

    @Test
    void fiveStepsMatchNd4jAdamPlusDecoupledDecay() {
        int rows = 64;
        int cols = 96;
        int n = rows * cols;
        double lr = 1e-3;
        double wd = 0.05;
        Random rnd = new Random(3);
        float[] w0 = TestArrays.gaussian(rnd, n, 1e-3); // small, so W − W0 is exact enough in fp32
        OptimSettings s = OptimSettings.from(Map.of("method", "adamw", "weight_decay", wd, "eps", 1e-12));
        Adam config = new Adam(lr, 0.9, 0.999, 1e-12);
        INDArray view = Nd4j.zeros(DataType.FLOAT, 1, 2L * n);
        AdamUpdater nd4j = (AdamUpdater) config.instantiate(view, true);
        INDArray ref = TestArrays.matrix(w0, rows, cols);
        try (LayerwiseOptimizer opt = LayerwiseOptimizer.create(s, 1)) {
            opt.add("lm_head.weight", TestArrays.matrix(w0, rows, cols));
            for (int t = 0; t < 5; t++) {
                float[] g = TestArrays.gaussian(rnd, n, 0.1 + 0.2 * t);
                INDArray update = TestArrays.matrix(g, rows, cols);
                nd4j.applyUpdater(update, t, 0);
                ref.subi(ref.mul(lr * wd)).subi(update);   // decoupled decay on W before the step
                opt.update("lm_head.weight", TestArrays.matrix(g, rows, cols), lr, 1.0);
                opt.endStep();
                float[] expectedDelta = TestArrays.values(ref.sub(TestArrays.matrix(w0, rows, cols)));
                float[] actualDelta = TestArrays.values(opt.weight("lm_head.weight").sub(TestArrays.matrix(w0, rows, cols)));
                double err = TestArrays.relativeError(actualDelta, expectedDelta);
                assertTrue(err < 1e-5, "step " + (t + 1) + ": relative error of W − W0 " + err);
            }
        }
    }
}
