package io.galore4j.trainer.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Where the model reads its weights, so that the optimizer can own the storage (for example INT8
 * codes dequantized just in time, Q-GaLore §3).
 *
 * <p>Contract: {@link #weight} returns a FLOAT (training) or DOUBLE (gradient checks) array of the
 * shape given by {@link LlamaParameters#shapes}, holding the parameter's current value. The array
 * may be a scratch buffer that the source overwrites later: the model treats it as valid only until
 * its next call to {@code weight} (for any name) or to its {@link GradientSink}, never caches it,
 * and never writes to it. All weights must have the same data type; the model computes in it.
 */
@FunctionalInterface
public interface WeightSource {

    /** The current value of parameter {@code name}; IllegalArgumentException for an unknown name. */
    INDArray weight(String name);
}
