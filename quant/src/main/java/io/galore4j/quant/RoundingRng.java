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

    /** j·φ₃₂ for the first indices of a call to {@link #counterWords}. */
    private static final int COUNTER_BLOCK = 1024;
    private static final int[] GOLDEN_MULTIPLES = new int[COUNTER_BLOCK];

    static {
        for (int j = 0; j < COUNTER_BLOCK; j++) {
            GOLDEN_MULTIPLES[j] = j * 0x9E3779B9;
        }
    }

    /**
     * Counter-based random words for bulk stochastic rounding: {@code out[j]} (j &lt; n) is a keyed
     * hash of the element index {@code first + j}, so a tensor's words depend only on the key and
     * the index (not on how its elements are split into runs or threads), and the loop carries no
     * state, so C2 vectorizes it. The hash is MurmurHash3's 32-bit finalizer (a bijection of the
     * 32-bit words, with full avalanche) of ((i·φ₃₂) ⊕ key_lo) + key_hi, φ₃₂ = 0x9E3779B9. Draw a
     * fresh {@code key} from a generator for every tensor encoded: two keys send the indices of one
     * tensor to different, scrambled inputs of the finalizer.
     */
    public static void counterWords(long key, int first, int[] out, int n) {
        int lo = (int) key;
        int hi = (int) (key >>> 32);
        int[] phi = GOLDEN_MULTIPLES;
        int m = Math.min(COUNTER_BLOCK, n);
        int base = first * 0x9E3779B9;
        // (first + j)·φ = first·φ + j·φ from a table, as C2 does not vectorize over the loop
        // index; the first block has every array at offset 0, the only case C2 vectorizes
        for (int j = 0; j < m; j++) {
            out[j] = counterWord(base + phi[j], lo, hi);
        }
        for (int j = m; j < n; j++) {
            out[j] = counterWord((first + j) * 0x9E3779B9, lo, hi);
        }
    }

    /** MurmurHash3's 32-bit finalizer of (iφ ⊕ lo) + hi. */
    private static int counterWord(int iPhi, int lo, int hi) {
        int h = (iPhi ^ lo) + hi;
        h ^= h >>> 16;
        h *= 0x85EBCA6B;
        h ^= h >>> 13;
        h *= 0xC2B2AE35;
        return h ^ (h >>> 16);
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
