package io.galore4j.trainer.run;

import java.io.PrintStream;

/**
 * Progress lines while a large model's weights are initialized, which takes minutes before the
 * first step (a 7B model: 6.7 billion normal draws, each quantized or split as the optimizer
 * stores it): one line at each further tenth of the parameters, with the time so far. Models
 * under {@link #LARGE} parameters initialize in seconds and print nothing.
 */
public final class InitProgress {

    /** Models with at least this many parameters report their initialization. */
    public static final long LARGE = 100_000_000L;

    private final long total;
    private final PrintStream log;
    private final long start = System.nanoTime();
    private long done;
    private int tenthsShown;

    private InitProgress(long total, PrintStream log) {
        this.total = total;
        this.log = log;
    }

    /** Progress over {@code totalParameters}, printed to {@code log} when not null and the model is large. */
    public static InitProgress of(long totalParameters, PrintStream log) {
        if (totalParameters <= 0) {
            throw new IllegalArgumentException("total parameters must be > 0, got " + totalParameters);
        }
        return new InitProgress(totalParameters, totalParameters >= LARGE ? log : null);
    }

    /** Counts {@code parameters} more as initialized, printing a line for each tenth completed. */
    public void add(long parameters) {
        done = Math.min(total, done + parameters);
        int tenths = (int) (done * 10 / total);
        if (log != null && tenths > tenthsShown) {
            tenthsShown = tenths;
            log.printf("galore train: initialized %d%% of %,d parameters (%.0f s)%n", tenths * 10, total,
                    (System.nanoTime() - start) / 1e9);
        }
    }
}
