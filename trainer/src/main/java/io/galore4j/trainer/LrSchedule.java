package io.galore4j.trainer;

/**
 * Linear warmup to the peak learning rate, then cosine decay to {@code minRatio} of it:
 * lr(t) = peak·(t+1)/warmup for t < warmup, else
 * peak·(minRatio + (1 − minRatio)·½(1 + cos(π·(t − warmup)/(steps − warmup)))).
 * Steps count from 0; the last step (steps − 1) is just above the floor.
 */
public record LrSchedule(double peak, int warmup, int steps, double minRatio) {

    public LrSchedule {
        if (!(peak > 0) || !Double.isFinite(peak)) {
            throw new IllegalArgumentException("optim.lr must be > 0 (got " + peak + ")");
        }
        if (warmup < 0 || steps < 1) {
            throw new IllegalArgumentException("train.warmup must be ≥ 0 and train.steps ≥ 1");
        }
    }

    public double at(int step) {
        if (step < warmup) {
            return peak * (step + 1) / warmup;
        }
        int decaySteps = Math.max(1, steps - warmup);
        double progress = Math.min(1.0, (double) (step - warmup) / decaySteps);
        return peak * (minRatio + (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * progress)));
    }
}
