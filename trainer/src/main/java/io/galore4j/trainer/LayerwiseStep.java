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
 *
 * <p>As a replica of a data-parallel run (docs/design.md §3.9) every replica must make the same
 * exchanges in the same order, so nothing is decided on one replica's numbers alone: each
 * micro-batch's loss is the mean over the replicas (a non-finite one anywhere stops the step on
 * all), every gradient goes to the optimizer, which sums it over the replicas and rejects a
 * non-finite sum on all of them alike, and the step's gradient norm is that of the exchanged mean
 * gradient ({@link LayerwiseOptimizer#exchangedSquaredNorm}).
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
    private final ReplicaSync sync;
    // the step under way
    private double lr;
    private double gradScale;
    private boolean lastMicroBatch;
    private boolean nonFinite;
    private double sumSquares;
    private double microLoss;
    private long optimizerNanos;

    LayerwiseStep(LlamaModel net, LayerwiseOptimizer opt, ReplicaSync sync) {
        this.net = net;
        this.opt = opt;
        this.sync = sync;
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
            double local = net.forwardBackward(batches.get(), this::proceed, this);
            loss += sync.distributed() ? microLoss : local;
            normSum += Math.sqrt(sumSquares);
        }
        long t = System.nanoTime();
        if (sync.distributed()) {
            try {
                opt.flush();
            } catch (IllegalArgumentException rejected) { // a non-finite sum: rejected on every replica
                nonFinite = true;
            }
            normSum = Math.sqrt(opt.exchangedSquaredNorm());
        }
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
        if (sync.distributed()) {
            microLoss = sync.sum(loss) / sync.size();
            loss = microLoss;
        }
        if (Double.isFinite(loss)) {
            return true;
        }
        nonFinite = true;
        return false;
    }

    @Override
    public void accept(String name, org.nd4j.linalg.api.ndarray.INDArray grad) {
        if (!sync.distributed()) { // a replica hands every gradient on: the optimizer's sum decides (class comment)
            if (nonFinite) {
                return;
            }
            double ss = GradientNorms.sumOfSquares(grad);
            if (!Double.isFinite(ss)) {
                nonFinite = true; // the rest of this step's updates are skipped
                return;
            }
            sumSquares += ss;
        }
        long t = System.nanoTime();
        try {
            if (lastMicroBatch) {
                opt.update(name, grad, lr, gradScale);
            } else {
                opt.accumulate(name, grad);
            }
        } catch (IllegalArgumentException rejected) {
            if (!sync.distributed()) {
                throw rejected;
            }
            nonFinite = true; // a non-finite sum, rejected on every replica alike
        }
        optimizerNanos += System.nanoTime() - t;
    }
}
