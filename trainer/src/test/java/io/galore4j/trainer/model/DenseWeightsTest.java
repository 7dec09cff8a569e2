package io.galore4j.trainer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

class DenseWeightsTest {

    @Test
    void initializationIsSeededOrderedAndFollowsLlama() {
        ModelConfig c = ModelConfig.standard(64, 2, 4, 128, 300, 16);
        DenseWeights a = DenseWeights.initialize(c, DataType.FLOAT, 42);
        DenseWeights b = DenseWeights.initialize(c, DataType.FLOAT, 42);
        DenseWeights other = DenseWeights.initialize(c, DataType.FLOAT, 43);
        assertEquals(List.copyOf(LlamaParameters.shapes(c).keySet()), List.copyOf(a.asMap().keySet()));
        for (String name : a.asMap().keySet()) {
            INDArray w = a.weight(name);
            assertEquals(b.weight(name), w, name);
            if (LlamaParameters.isNorm(name)) {
                assertEquals(1.0, w.minNumber().doubleValue(), 0.0);
                assertEquals(1.0, w.maxNumber().doubleValue(), 0.0);
            } else {
                assertNotEquals(other.weight(name), w, name);
                // mean 0, std 0.02 within sampling error (n >= 8192 entries)
                double n = w.length();
                assertEquals(0.0, w.meanNumber().doubleValue(), 5 * 0.02 / Math.sqrt(n), name);
                assertEquals(0.02, w.stdNumber().doubleValue(), 5 * 0.02 / Math.sqrt(2 * n), name);
            }
        }
    }

    @Test
    void unknownNamesAndTypesAreRejected() {
        ModelConfig c = TinyModels.TINY;
        DenseWeights w = DenseWeights.initialize(c, DataType.DOUBLE, 1);
        assertEquals("unknown parameter name: model.layers.9.mlp.up_proj.weight",
                assertThrows(IllegalArgumentException.class,
                        () -> w.weight("model.layers.9.mlp.up_proj.weight")).getMessage());
        assertThrows(IllegalArgumentException.class, () -> DenseWeights.initialize(c, DataType.HALF, 1));
    }
}
