package io.galore4j.trainer.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Receives each parameter's gradient during backward the moment it is complete: the hook for
 * layer-wise updates with gradient release (docs/design.md §2, step 2).
 *
 * <p>Contract of {@link LlamaModel#forwardBackward}:
 * <ul>
 *   <li>{@code accept} is called exactly once per parameter per backward pass, in the order of
 *       {@link LlamaParameters#backwardOrder};</li>
 *   <li>{@code grad} is d(mean loss)/d(weight), in the weight's shape and data type;</li>
 *   <li>when {@code accept} is called the model has already used the weight for everything it
 *       still needed (the input gradient that depends on it was computed before), and it will not
 *       read that weight again in this pass: the sink may update the weight in place right away;</li>
 *   <li>{@code grad} is a buffer owned by the model that is overwritten after {@code accept}
 *       returns (it is reused for later gradients of the same shape): the sink may modify it in
 *       place (scale, clip, use as scratch), and a sink that keeps the gradient must copy it;</li>
 *   <li>the weight arrays obtained from the {@link WeightSource} are not held across this call.</li>
 * </ul>
 */
@FunctionalInterface
public interface GradientSink {

    void accept(String name, INDArray grad);
}
