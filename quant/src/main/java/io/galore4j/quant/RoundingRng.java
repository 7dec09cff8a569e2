package io.galore4j.quant;

import java.util.Arrays;

/**
 * Seedable random source for stochastic rounding: xoshiro256** (Blackman and Vigna, 2018)
 * seeded through SplitMix64. Its whole state is four longs, so a checkpoint can save it with
 * {@link #state()} and resume the exact same sequence with {@link #fromState(long[])}.
 *
 * <p>Not thread-safe: give each thread (or each tensor being requantized) its own instance.
 */
public final class RoundingRng {
    private long s0;
    private long s1;
    private long s2;
    private long s3;

    /** A generator whose state is derived from {@code seed} by SplitMix64. */
    public RoundingRng(long seed) {
        long z = seed;
        z += 0x9E3779B97F4A7C15L;
        s0 = mix(z);
        z += 0x9E3779B97F4A7C15L;
        s1 = mix(z);
        z += 0x9E3779B97F4A7C15L;
        s2 = mix(z);
        z += 0x9E3779B97F4A7C15L;
        s3 = mix(z);
    }

    private RoundingRng(long[] state) {
        s0 = state[0];
        s1 = state[1];
        s2 = state[2];
        s3 = state[3];
    }

    /** SplitMix64 output function. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * Generator number {@code index} of the family keyed by {@code key}: a caller that splits one
     * tensor's rounding into independently processed runs (possibly on several threads) draws one
     * {@code key} from its own generator and gives run i {@code stream(key, i)}, so the codes do
     * not depend on the order or the threads the runs take. The seed is SplitMix64's output
     * function (a bijection) of key + index·φ with the odd constant φ = 0x9E3779B97F4A7C15, so the
     * indices of one key seed distinct generators.
     */
    public static RoundingRng stream(long key, long index) {
        return new RoundingRng(mix(key + index * 0x9E3779B97F4A7C15L));
    }

    /** Restores a generator from a {@link #state()} snapshot; the next outputs are identical. */
    public static RoundingRng fromState(long[] state) {
        if (state == null || state.length != 4) {
            throw new IllegalArgumentException("RoundingRng state: expected 4 longs, got "
                    + (state == null ? "null" : state.length));
        }
        if ((state[0] | state[1] | state[2] | state[3]) == 0) {
            throw new IllegalArgumentException("RoundingRng state: all four words are zero (invalid xoshiro256** state)");
        }
        return new RoundingRng(state);
    }

    /** Sets this generator to a {@link #state()} snapshot (in place, for holders of this instance). */
    public void restore(long[] state) {
        RoundingRng r = fromState(state);
        s0 = r.s0;
        s1 = r.s1;
        s2 = r.s2;
        s3 = r.s3;
    }

    /** A copy of the four state words. */
    public long[] state() {
        return new long[] {s0, s1, s2, s3};
    }

    /** Next 64 uniformly random bits (xoshiro256** step). */
    public long nextLong() {
        long result = Long.rotateLeft(s1 * 5, 7) * 9;
        long t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = Long.rotateLeft(s3, 45);
        return result;
    }

    /** Uniform float in [0, 1) with 24 random bits. */
    public float nextFloat() {
        return (nextLong() >>> 40) * 0x1.0p-24f;
    }

    @Override
    public String toString() {
        return "RoundingRng" + Arrays.toString(state());
    }
}
