package io.galore4j.trainer.model;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A {@link GradientSink} that keeps a copy of every gradient, in arrival order (for tests, gradient
 * accumulation and full-model optimizers). It rejects a second gradient for the same name.
 */
public final class GradientCollector implements GradientSink {

    private final Map<String, INDArray> gradients = new LinkedHashMap<>();

    @Override
    public void accept(String name, INDArray grad) {
        if (gradients.containsKey(name)) {
            throw new IllegalStateException("gradient of " + name + " delivered twice");
        }
        gradients.put(name, grad.dup('c'));
    }

    /** The gradients received so far, in arrival order (unmodifiable). */
    public Map<String, INDArray> gradients() {
        return Collections.unmodifiableMap(gradients);
    }

    /** The gradient of {@code name}; IllegalArgumentException if none arrived. */
    public INDArray gradient(String name) {
        INDArray g = gradients.get(name);
        if (g == null) {
            throw new IllegalArgumentException("no gradient received for " + name);
        }
        return g;
    }
}
