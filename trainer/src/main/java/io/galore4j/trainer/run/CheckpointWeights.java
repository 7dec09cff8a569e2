package io.galore4j.trainer.run;

import io.galore4j.galore.SavedWeights;
import io.galore4j.trainer.model.LlamaParameters;
import io.galore4j.trainer.model.ModelConfig;
import io.galore4j.trainer.model.WeightSource;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The model's weights in one checkpoint, read straight from their stored tensors
 * ({@link SavedWeights}: fp32 values, INT8 codes with scales and zero points, or split bf16 + int8
 * parts) and decoded to fp32 exactly as the trainer decoded them, without building the optimizer:
 * no moment, basis or pooled buffer is read or allocated (docs/design.md §2). Every problem is an
 * IllegalArgumentException naming the checkpoint and the parameter.
 */
public final class CheckpointWeights implements WeightSource, AutoCloseable {

    private final Checkpoints.Loaded checkpoint;
    private final Map<String, ?> state;
    private final Map<String, long[]> shapes;
    private INDArray current;

    /**
     * The weights of {@code model} in {@code checkpoint} (opened and verified; the caller closes
     * it); IllegalArgumentException when the checkpoint holds other parameters than the model's.
     */
    public CheckpointWeights(Checkpoints.Loaded checkpoint, ModelConfig model) {
        this.checkpoint = checkpoint;
        this.shapes = LlamaParameters.shapes(model);
        try {
            this.state = checkpoint.optimizerState();
            SavedWeights.checkParameters(state, shapes.keySet());
        } catch (IllegalArgumentException e) {
            throw unfit(e);
        }
    }

    /** Parameter {@code name} as a new fp32 array the caller owns. */
    public INDArray read(String name) {
        long[] shape = shapes.get(name);
        if (shape == null) {
            throw new IllegalArgumentException("unknown parameter " + name);
        }
        try {
            return SavedWeights.decode(state, name, shape, checkpoint::tensor);
        } catch (IllegalArgumentException e) {
            throw unfit(e);
        }
    }

    /**
     * Parameter {@code name}, valid until the next call (the {@link WeightSource} contract): the
     * array of the previous call is released, so one decoded parameter is held at a time.
     */
    @Override
    public INDArray weight(String name) {
        close();
        current = read(name);
        return current;
    }

    private IllegalArgumentException unfit(IllegalArgumentException e) {
        return new IllegalArgumentException("checkpoint " + checkpoint.dir() + " does not fit its run's config: "
                + e.getMessage(), e);
    }

    /** Releases the array of the last {@link #weight} call. */
    @Override
    public void close() {
        if (current != null) {
            current.close();
            current = null;
        }
    }
}
