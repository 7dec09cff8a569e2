package io.galore4j.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RoundingRngTest {
    @Test
    void restoredStateReproducesTheSameSequence() {
        RoundingRng a = new RoundingRng(42);
        for (int i = 0; i < 1000; i++) {
            a.nextFloat();
        }
        long[] saved = a.state();
        float[] expected = new float[100];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = a.nextFloat();
        }
        RoundingRng b = RoundingRng.fromState(saved);
        float[] actual = new float[100];
        for (int i = 0; i < actual.length; i++) {
            actual[i] = b.nextFloat();
        }
        assertArrayEquals(expected, actual);
        assertArrayEquals(a.state(), b.state());
    }

    @Test
    void stateIsACopy() {
        RoundingRng a = new RoundingRng(7);
        long[] s = a.state();
        s[0] ^= 1;
        assertNotEquals(s[0], a.state()[0]);
    }

    @Test
    void counterWordsDependOnlyOnKeyAndIndex() {
        long key = 0x1234_5678_9ABC_DEF0L;
        int n = 3000; // more than one block of 1024
        int[] whole = new int[n];
        RoundingRng.counterWords(key, 777, whole, n);
        for (int split : new int[] {1, 256, 1023, 1024, 1500}) {
            int[] head = new int[split];
            int[] tail = new int[n - split];
            RoundingRng.counterWords(key, 777, head, split);
            RoundingRng.counterWords(key, 777 + split, tail, n - split);
            for (int j = 0; j < n; j++) {
                assertEquals(whole[j], j < split ? head[j] : tail[j - split], "split " + split + ", index " + j);
            }
        }
        int[] other = new int[n];
        RoundingRng.counterWords(key + 1, 777, other, n);
        int same = 0;
        for (int j = 0; j < n; j++) {
            same += whole[j] == other[j] ? 1 : 0;
        }
        assertTrue(same < 3, "another key gives other words: " + same + " of " + n + " equal");
    }

    /**
     * The words' top 8 bits are uniform (chi-square over 256 bins, p > 1e-4), and the uniforms of
     * neighbouring indices, and of one index under two keys, are uncorrelated (|r| within 4
     * standard errors, 1/sqrt(n)).
     */
    @Test
    void counterWordsAreUniformAndUncorrelated() {
        int n = 1 << 20;
        int[] w = new int[n];
        int[] v = new int[n];
        RoundingRng.counterWords(42, 0, w, n);
        RoundingRng.counterWords(43, 0, v, n);
        long[] bins = new long[256];
        double[] expected = new double[256];
        java.util.Arrays.fill(expected, n / 256.0);
        for (int x : w) {
            bins[x >>> 24]++;
        }
        double p = new org.apache.commons.math3.stat.inference.ChiSquareTest().chiSquareTest(expected, bins);
        assertTrue(p > 1e-4, "top byte histogram: chi-square p = " + p);
        double[] u = new double[n];
        double[] u2 = new double[n];
        for (int j = 0; j < n; j++) {
            u[j] = (w[j] >>> 8) * 0x1.0p-24;
            u2[j] = (v[j] >>> 8) * 0x1.0p-24;
        }
        var pearson = new org.apache.commons.math3.stat.correlation.PearsonsCorrelation();
        double neighbours = pearson.correlation(java.util.Arrays.copyOf(u, n - 1), java.util.Arrays.copyOfRange(u, 1, n));
        double keys = pearson.correlation(u, u2);
        assertEquals(0, neighbours, 4 / Math.sqrt(n), "neighbouring indices");
        assertEquals(0, keys, 4 / Math.sqrt(n), "one index under two keys");
    }

    @Test
    void differentSeedsGiveDifferentSequences() {
        assertNotEquals(new RoundingRng(1).nextLong(), new RoundingRng(2).nextLong());
    }

    @Test
    void nextFloatIsUniformInUnitInterval() {
        RoundingRng r = new RoundingRng(3);
        int n = 100_000;
        double sum = 0;
        int[] deciles = new int[10];
        for (int i = 0; i < n; i++) {
            float u = r.nextFloat();
            assertTrue(u >= 0f && u < 1f, "out of [0,1): " + u);
            sum += u;
            deciles[(int) (u * 10)]++;
        }
        // mean 1/2 with standard error sqrt(1/12/n); 4 standard errors
        assertEquals(0.5, sum / n, 4 * Math.sqrt(1.0 / 12 / n));
        for (int count : deciles) {
            // binomial(n, 0.1): sd = sqrt(n*0.09) ≈ 95
            assertEquals(n / 10.0, count, 5 * Math.sqrt(n * 0.09));
        }
    }

    @Test
    void invalidStatesAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RoundingRng.fromState(new long[3]));
        assertTrue(e.getMessage().contains("4 longs"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RoundingRng.fromState(new long[4]));
        assertTrue(e.getMessage().contains("zero"), e.getMessage());
    }
}
