package io.galore4j.galore.qzo;

import java.util.SplittableRandom;

/**
 * The perturbation direction z ~ N(0, I) of one QZO step, for one parameter: a stream of
 * standard normal draws, one per scale in group order, regenerated from (step seed, parameter
 * index) whenever it is needed and never stored (docs/design.md §3). The same seed and index always
 * give the same draws; the parameter's generator is seeded with a SplitMix64 hash of both, so the
 * streams of different parameters or steps do not overlap in any way that matters (a shared
 * stream would need two 64-bit hashes to collide).
 */
public final class Perturbation {
    private final SplittableRandom random;

    private Perturbation(long seed) {
        this.random = new SplittableRandom(seed);
    }

    /** The draws of parameter {@code parameter} (its index in the model) at step seed {@code stepSeed}. */
    public static Perturbation of(long stepSeed, int parameter) {
        return new Perturbation(mix(stepSeed ^ mix(0x9E3779B97F4A7C15L * (parameter + 1L))));
    }

    /** The next z_g, standard normal. */
    public double next() {
        return random.nextGaussian();
    }

    /** SplitMix64's output function (Steele, Lea and Flood 2014). */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
