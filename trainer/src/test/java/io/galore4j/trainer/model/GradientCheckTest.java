package io.galore4j.trainer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Backward equals central finite differences of the forward loss, in float64, for every parameter
 * of a tiny whole model (hidden 16, 2 layers, 2 heads, intermediate 24, vocab 11, seq 6, batch 2).
 * Each parameter's gradient passes through its own layer's backward, and the embedding's through
 * every input gradient of every layer (head + cross-entropy, final norm, both blocks' MLP, norms,
 * attention with RoPE and the causal mask), so the checks below cover each layer type.
 *
 * <p>Relative error: |a − n| / max(|a| + |n|, 1e-10), with a the analytic and n the numerical
 * derivative (step 1e-5); entries are a seeded random subset of 40 per parameter (all of them for
 * the norm gains).
 */
class GradientCheckTest {

    private static final double STEP = 1e-5;
    private static final double TINY = 1e-10;
    private static final double MAX_REL_ERR = 1e-6;
    private static final int ENTRIES_PER_PARAMETER = 40;

    private static DenseWeights weights;
    private static LlamaModel model;
    private static int[][] batch;
    private static Map<String, INDArray> analytic;

    @BeforeAll
    static void computeAnalyticGradients() {
        weights = TinyModels.weights(TinyModels.TINY, DataType.DOUBLE, 7, 0.3);
        model = new LlamaModel(TinyModels.TINY, weights);
        batch = TinyModels.batch(TinyModels.TINY, 2, 6, 11);
        GradientCollector collector = new GradientCollector();
        model.forwardBackward(batch, collector);
        analytic = collector.gradients();
    }

    @Test
    void outputHeadAndCrossEntropy() {
        assertGradientsMatch(List.of(LlamaParameters.LM_HEAD));
    }

    @Test
    void rmsNormGains() {
        List<String> names = new ArrayList<>(List.of(LlamaParameters.FINAL_NORM));
        for (int i = 0; i < TinyModels.TINY.layers(); i++) {
            names.add(LlamaParameters.inputNorm(i));
            names.add(LlamaParameters.postAttentionNorm(i));
        }
        assertGradientsMatch(names);
    }

    @Test
    void attentionProjectionsWithRopeAndCausalMask() {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < TinyModels.TINY.layers(); i++) {
            for (char p : new char[] {'q', 'k', 'v', 'o'}) {
                names.add(LlamaParameters.attention(i, p));
            }
        }
        assertGradientsMatch(names);
    }

    @Test
    void swiGluMlp() {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < TinyModels.TINY.layers(); i++) {
            for (String p : new String[] {"gate", "up", "down"}) {
                names.add(LlamaParameters.mlp(i, p));
            }
        }
        assertGradientsMatch(names);
    }

    @Test
    void embeddingThroughEveryInputGradient() {
        assertGradientsMatch(List.of(LlamaParameters.EMBED_TOKENS));
    }

    private void assertGradientsMatch(List<String> names) {
        SplittableRandom random = new SplittableRandom(names.hashCode());
        StringBuilder report = new StringBuilder();
        double worst = 0;
        for (String name : names) {
            INDArray w = weights.weight(name);
            INDArray g = analytic.get(name);
            int n = Math.toIntExact(w.length());
            int count = LlamaParameters.isNorm(name) ? n : Math.min(n, ENTRIES_PER_PARAMETER);
            double maxRel = 0;
            for (int c = 0; c < count; c++) {
                int i = count == n ? c : random.nextInt(n);
                double a = g.getDouble(i);
                double num = numericalDerivative(w, i);
                double rel = Math.abs(a - num) / Math.max(Math.abs(a) + Math.abs(num), TINY);
                maxRel = Math.max(maxRel, rel);
            }
            worst = Math.max(worst, maxRel);
            report.append(String.format("%s max rel err %.2e%n", name, maxRel));
        }
        System.out.print(report);
        assertTrue(worst <= MAX_REL_ERR, report.toString());
    }

    private double numericalDerivative(INDArray w, int i) {
        double original = w.getDouble(i);
        w.putScalar(i, original + STEP);
        double plus = model.loss(batch);
        w.putScalar(i, original - STEP);
        double minus = model.loss(batch);
        w.putScalar(i, original);
        return (plus - minus) / (2 * STEP);
    }

    @Test
    void lossIsUnchangedByTheProbesAndMatchesTheForwardOnlyPass() {
        GradientCollector again = new GradientCollector();
        double lossWithBackward = model.forwardBackward(batch, again);
        assertEquals(model.loss(batch), lossWithBackward, 1e-14);
    }
}
