package io.galore4j.trainer.sample;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from a row of next-token logits: greedy (temperature 0: the arg max, the
 * lowest index on ties) or a draw from softmax(logits / temperature), optionally restricted to the
 * {@code topK} largest logits (Fan et al. 2018). Draws come from one generator seeded at
 * construction, so a fixed seed gives a fixed sequence of picks.
 */
public final class Sampler {

    private final double temperature;
    private final int topK;
    private final SplittableRandom random;

    /**
     * @param temperature 0 for greedy, else a finite number &gt; 0
     * @param topK        0 for no restriction, else the number of largest logits kept (&gt; 0)
     * @param seed        seed of the draws
     */
    public Sampler(double temperature, int topK, long seed) {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("--temperature must be a finite number ≥ 0, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("--top-k must be ≥ 0 (0 = off), got " + topK);
        }
        this.temperature = temperature;
        this.topK = topK;
        this.random = new SplittableRandom(seed);
    }

    /** The next token among {@code logits[0 .. vocab)}. */
    public int next(float[] logits, int vocab) {
        if (vocab <= 0 || vocab > logits.length) {
            throw new IllegalArgumentException("vocab " + vocab + " outside (0, " + logits.length + "]");
        }
        if (temperature == 0) {
            return argmax(logits, vocab);
        }
        Integer[] order = new Integer[vocab];
        for (int i = 0; i < vocab; i++) {
            order[i] = i;
        }
        int kept = vocab;
        if (topK > 0 && topK < vocab) {
            Arrays.sort(order, (a, b) -> Float.compare(logits[b], logits[a]));
            kept = topK;
        }
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < kept; j++) {
            max = Math.max(max, logits[order[j]]);
        }
        double[] weights = new double[kept];
        double total = 0;
        for (int j = 0; j < kept; j++) {
            weights[j] = Math.exp((logits[order[j]] - max) / temperature);
            total += weights[j];
        }
        double u = random.nextDouble() * total;
        for (int j = 0; j < kept; j++) {
            u -= weights[j];
            if (u < 0) {
                return order[j];
            }
        }
        return order[kept - 1]; // rounding left u ≥ 0 after the last weight
    }

    /** The index of the largest of {@code logits[0 .. vocab)}, the lowest on ties. */
    public static int argmax(float[] logits, int vocab) {
        int best = 0;
        for (int i = 1; i < vocab; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
