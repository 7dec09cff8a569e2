package io.galore4j.trainer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

class LlamaModelTest {

    private static final ModelConfig TINY = TinyModels.TINY;

    @Test
    void everyGradientArrivesOnceInBackwardOrderWithTheWeightsShape() {
        DenseWeights w = TinyModels.weights(TINY, DataType.DOUBLE, 1, 0.1);
        List<String> received = new ArrayList<>();
        new LlamaModel(TINY, w).forwardBackward(TinyModels.batch(TINY, 2, 6, 2), (name, grad) -> {
            received.add(name);
            assertEquals(java.util.Arrays.toString(w.weight(name).shape()), java.util.Arrays.toString(grad.shape()), name);
            assertEquals(DataType.DOUBLE, grad.dataType());
        });
        assertEquals(LlamaParameters.backwardOrder(TINY), received);
        assertEquals(LlamaParameters.shapes(TINY).keySet(), new java.util.HashSet<>(received));
    }

    /**
     * The release contract: once a gradient is handed over, the model never reads that weight again.
     * The sink overwrites each weight with NaN as soon as it has its gradient; every later gradient
     * must still equal the one computed with intact weights.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void weightsOverwrittenAfterTheirGradientDoNotChangeLaterGradients(boolean checkpoint) {
        DenseWeights reference = TinyModels.weights(TINY, DataType.DOUBLE, 3, 0.2);
        DenseWeights live = TinyModels.copy(reference);
        int[][] batch = TinyModels.batch(TINY, 2, 6, 4);
        GradientCollector expected = new GradientCollector();
        LlamaModel referenceModel = new LlamaModel(TINY, reference);
        referenceModel.setCheckpointActivations(checkpoint);
        double expectedLoss = referenceModel.forwardBackward(batch, expected);

        LlamaModel model = new LlamaModel(TINY, live);
        model.setCheckpointActivations(checkpoint);
        List<String> checked = new ArrayList<>();
        double loss = model.forwardBackward(batch, (name, grad) -> {
            assertEquals(0.0, TinyModels.maxAbsDiff(expected.gradient(name), grad), 0.0, name);
            live.weight(name).assign(Double.NaN);
            checked.add(name);
        });
        assertEquals(expectedLoss, loss, 0.0);
        assertEquals(LlamaParameters.shapes(TINY).size(), checked.size());
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void checkpointingGivesIdenticalLossAndGradients(DataType type) {
        DenseWeights w = TinyModels.weights(TINY, type, 5, 0.2);
        int[][] batch = TinyModels.batch(TINY, 3, 6, 6);
        LlamaModel plain = new LlamaModel(TINY, w);
        GradientCollector plainGrads = new GradientCollector();
        double plainLoss = plain.forwardBackward(batch, plainGrads);

        LlamaModel checkpointed = new LlamaModel(TINY, w);
        checkpointed.setCheckpointActivations(true);
        GradientCollector cpGrads = new GradientCollector();
        double cpLoss = checkpointed.forwardBackward(batch, cpGrads);

        assertEquals(plainLoss, cpLoss, 0.0);
        for (Map.Entry<String, INDArray> e : plainGrads.gradients().entrySet()) {
            assertEquals(e.getValue(), cpGrads.gradient(e.getKey()), e.getKey()); // exact equality
        }
    }

    @Test
    void changingAFutureTokenLeavesEarlierLogitsUnchanged() {
        DenseWeights w = TinyModels.weights(TINY, DataType.DOUBLE, 8, 0.3);
        LlamaModel model = new LlamaModel(TINY, w);
        int[][] tokens = {{1, 4, 2, 9, 7, 3}};
        INDArray before = model.logits(tokens);
        int changed = 4;
        tokens[0][changed] = 10;
        INDArray after = model.logits(tokens);
        for (int t = 0; t < tokens[0].length; t++) {
            double diff = TinyModels.maxAbsDiff(before.get(
                    org.nd4j.linalg.indexing.NDArrayIndex.point(0), org.nd4j.linalg.indexing.NDArrayIndex.point(t)),
                    after.get(org.nd4j.linalg.indexing.NDArrayIndex.point(0),
                            org.nd4j.linalg.indexing.NDArrayIndex.point(t)));
            if (t < changed) {
                assertEquals(0.0, diff, 1e-14, "position " + t + " sees the future token");
            } else {
                assertTrue(diff > 1e-6, "position " + t + " should depend on token " + changed);
            }
        }
    }

    @Test
    void lossAtInitializationIsNearLogVocab() {
        // with N(0, 0.02²) weights the logits are near zero, so the cross-entropy is ≈ ln V
        ModelConfig config = ModelConfig.standard(32, 2, 4, 64, 50, 8);
        LlamaModel model = new LlamaModel(config, DenseWeights.initialize(config, DataType.FLOAT, 1));
        double loss = model.loss(TinyModels.batch(config, 4, 8, 2));
        assertEquals(Math.log(50), loss, 0.02);
    }

    @Test
    void floatAndDoubleAgree() {
        DenseWeights d = TinyModels.weights(TINY, DataType.DOUBLE, 9, 0.3);
        java.util.Map<String, INDArray> f = new java.util.LinkedHashMap<>();
        d.asMap().forEach((k, v) -> f.put(k, v.castTo(DataType.FLOAT)));
        int[][] batch = TinyModels.batch(TINY, 2, 6, 10);
        GradientCollector gd = new GradientCollector();
        GradientCollector gf = new GradientCollector();
        double ld = new LlamaModel(TINY, d).forwardBackward(batch, gd);
        double lf = new LlamaModel(TINY, new DenseWeights(f)).forwardBackward(batch, gf);
        assertEquals(ld, lf, 1e-5 * ld);
        for (String name : gd.gradients().keySet()) {
            INDArray a = gd.gradient(name);
            double scale = a.amaxNumber().doubleValue();
            assertTrue(TinyModels.maxAbsDiff(a, gf.gradient(name)) <= 1e-4 * scale, name);
        }
    }

    @Test
    void sgdThroughTheSinkLowersTheLossOnAShorterSequence() {
        // a few plain SGD steps through the sink on one batch must lower its loss (end-to-end sanity)
        DenseWeights w = TinyModels.weights(TINY, DataType.DOUBLE, 12, 0.1);
        LlamaModel model = new LlamaModel(TINY, w);
        int[][] batch = TinyModels.batch(TINY, 2, 4, 13);
        GradientSink sgd = (name, grad) -> w.weight(name).subi(grad.muli(0.2));
        double first = model.forwardBackward(batch, sgd);
        double last = first;
        for (int step = 0; step < 8; step++) {
            last = model.forwardBackward(batch, sgd);
        }
        assertTrue(last < 0.8 * first, "loss " + first + " -> " + last);
    }

    @Test
    void badBatchesAreRejectedWithTheReason() {
        LlamaModel model = new LlamaModel(TINY, TinyModels.weights(TINY, DataType.DOUBLE, 1, 0.1));
        GradientCollector sink = new GradientCollector();
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> model.forwardBackward(new int[][] {{1, 2, 11}}, sink)).getMessage().contains("batch[0][2] = 11"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> model.loss(new int[][] {new int[8]})).getMessage().contains("got 8"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> model.loss(new int[][] {new int[3], new int[4]})).getMessage().contains("differ"));
    }
}
