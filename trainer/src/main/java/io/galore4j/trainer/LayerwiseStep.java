package io.galore4j.trainer;

import io.galore4j.galore.LayerwiseOptimizer;
import io.galore4j.trainer.model.GradientNorms;
import io.galore4j.trainer.model.GradientSink;
import io.galore4j.trainer.model.LlamaModel;
import java.util.function.Supplier;

/**
 * One optimizer step with layer-wise updates (docs/design.md §2): forward and backward over each
 * micro-batch, each parameter's gradient handed to the optimizer the moment it is complete (and
 * released by the backward pass after), accumulated on all micro-batches but the last and applied
 * on the last. A non-finite loss stops the step before its backward pass and a non-finite
 * gradient before it reaches the optimizer; the step is then abandoned, else ended.
 */
final class LayerwiseStep implements GradientSink {

    /**
     * What a step measured.
     *
     * @param lossSum        the sum of the micro-batches' losses (NaN or infinite when one was)
     * @param normSum        the sum of the micro-batches' global gradient norms
     * @param nonFinite      a loss or a gradient was not finite: the step was abandoned
     * @param optimizerNanos time inside the optimizer: its updates and its end of step
     */
    record Outcome(double lossSum, double normSum, boolean nonFinite, long optimizerNanos) {}

    private final LlamaModel net;
    private final LayerwiseOptimizer opt;
    // the step under way
    private double lr;
    private double gradScale;
    private boolean lastMicroBatch;
    private boolean nonFinite;
    private double sumSquares;
    private long optimizerNanos;

    LayerwiseStep(LlamaModel net, LayerwiseOptimizer opt) {
        this.net = net;
        this.opt = opt;
    }

    /**
     * Runs one step over {@code microBatches} batches from {@code batches} at learning rate
     * {@code lr}, each update scaling the gradient by {@code gradScale}.
     */
    Outcome run(Supplier<int[][]> batches, int microBatches, double lr, double gradScale) {
        this.lr = lr;
        this.gradScale = gradScale;
        nonFinite = false;
        optimizerNanos = 0;
        double loss = 0;
        double normSum = 0;
        for (int micro = 0; micro < microBatches && !nonFinite; micro++) {
            lastMicroBatch = micro == microBatches - 1;
            sumSquares = 0;
            loss += net.forwardBackward(batches.get(), this::proceed, this);
            normSum += Math.sqrt(sumSquares);
        }
        long t = System.nanoTime();
        if (nonFinite) {
            opt.abandonStep();
        } else {
            opt.endStep();
        }
        optimizerNanos += System.nanoTime() - t;
        return new Outcome(loss, normSum, nonFinite, optimizerNanos);
    }

    /** Whether the backward pass runs after a forward pass that gave {@code loss}. */
    private boolean proceed(double loss) {
        if (Double.isFinite(loss)) {
            return true;
        }
        nonFinite = true;
        return false;
    }

    @Override
    public void accept(String name, org.nd4j.linalg.api.ndarray.INDArray grad) {
        if (nonFinite) {
            return;
        }
        double ss = GradientNorms.sumOfSquares(grad);
        if (!Double.isFinite(ss)) {
            nonFinite = true; // the rest of this step's updates are skipped
            return;
        }
        sumSquares += ss;
        long t = System.nanoTime();
        if (lastMicroBatch) {
            opt.update(name, grad, lr, gradScale);
        } else {
            opt.accumulate(name, grad);
        }
        optimizerNanos += System.nanoTime() - t;
    }
}
