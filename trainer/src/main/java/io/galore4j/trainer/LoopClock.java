package io.galore4j.trainer;

import java.util.function.DoubleSupplier;

/**
 * The time of a training loop: seconds since it started (a resumed run's earlier processes
 * included) and the part of them spent evaluating, which the tokens-per-second figures leave out.
 */
final class LoopClock {

    private final long start;
    private double evalSeconds;

    /** A clock that has already run {@code elapsedBefore} seconds, {@code evalSecondsBefore} of them evaluating. */
    LoopClock(double elapsedBefore, double evalSecondsBefore) {
        this.start = System.nanoTime() - (long) (elapsedBefore * 1e9);
        this.evalSeconds = evalSecondsBefore;
    }

    /** Seconds since the loop started. */
    double elapsed() {
        return (System.nanoTime() - start) / 1e9;
    }

    /** Seconds spent evaluating. */
    double evalSeconds() {
        return evalSeconds;
    }

    /** Seconds of training: {@link #elapsed} without the evaluations. */
    double trainSeconds() {
        return elapsed() - evalSeconds;
    }

    /** Runs {@code evaluation}, counting its time as evaluation time; returns its result. */
    double evaluate(DoubleSupplier evaluation) {
        long t = System.nanoTime();
        double value = evaluation.getAsDouble();
        evalSeconds += (System.nanoTime() - t) / 1e9;
        return value;
    }
}
