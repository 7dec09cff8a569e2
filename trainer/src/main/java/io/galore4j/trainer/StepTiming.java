package io.galore4j.trainer;

/**
 * Where one training step's time went, as {@code galore bench} measures it (seconds).
 *
 * @param step      the step's number (1-based, warm-up steps included)
 * @param total     the training loop's step ({@link LayerwiseStep}): forward, backward with the
 *                  layer-wise updates and each gradient's norm and finiteness check, and the end of
 *                  the step
 * @param forward   a forward-only pass over the same batch, timed just before the step (the step's
 *                  own forward is not separable from the backward that follows it)
 * @param optimizer inside the optimizer's {@code update} calls and its end of step: projection,
 *                  state codecs, weight update and requantization, and any basis refresh
 * @param refresh   the basis computations (SVD) of the refreshes in this step, part of {@code optimizer}
 * @param weights   fetching weights for the step's forward and backward (dequantizing INT8 or
 *                  split weights; about zero for fp32)
 * @param loss      the step's training loss
 * @param refreshes how many bases were recomputed
 * @param cpu       CPU time of the whole process during the step (every thread: BLAS workers, JIT,
 *                  GC), not counting the forward-only pass; read in clock ticks (10 ms on Linux)
 * @param mainCpu   CPU time of the thread that ran the step; {@code total − mainCpu} is time it spent
 *                  off a core: waiting for BLAS workers, blocked, or runnable but not scheduled
 */
public record StepTiming(int step, double total, double forward, double optimizer, double refresh, double weights,
        double loss, int refreshes, double cpu, double mainCpu) {

    /** What is left of the step after the forward pass and the optimizer: the backward pass (with the norms). */
    public double backward() {
        return Math.max(0, total - forward - optimizer);
    }
}
