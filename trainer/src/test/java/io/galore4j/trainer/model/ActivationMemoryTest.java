package io.galore4j.trainer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

class ActivationMemoryTest {

    private static final ModelConfig TINY = ModelConfig.standard(16, 3, 2, 24, 11, 6);

    @Test
    void estimateEqualsWhatTheModelAllocates() {
        for (boolean checkpointed : new boolean[] {false, true}) {
            for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
                LlamaModel model = new LlamaModel(TINY, DenseWeights.initialize(TINY, type, 1));
                model.setCheckpointActivations(checkpointed);
                int[][] batch = {{1, 2, 3, 4, 5, 6, 7}, {7, 6, 5, 4, 3, 2, 1}};
                model.forwardBackward(batch, new GradientCollector());
                ActivationMemory measured = model.workspaceMemory();
                assertEquals(ActivationMemory.estimate(TINY, 2, 6, checkpointed, type), measured,
                        "checkpointed=" + checkpointed + " " + type);
            }
        }
    }

    @Test
    void checkpointingKeepsLessThanFullActivations() {
        ModelConfig micro = ModelConfig.preset("micro");
        long full = ActivationMemory.estimate(micro, 16, 128, false, DataType.FLOAT).activationBytes();
        long ckpt = ActivationMemory.estimate(micro, 16, 128, true, DataType.FLOAT).activationBytes();
        assertTrue(ckpt < full / 2, "checkpointed " + ckpt + " vs full " + full);
    }
}
