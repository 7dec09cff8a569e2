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
    void streamsOfOneKeyAreReproducibleAndDistinct() {
        assertArrayEquals(RoundingRng.stream(9, 3).state(), RoundingRng.stream(9, 3).state());
        java.util.Set<Long> firsts = new java.util.HashSet<>();
        for (long key : new long[] {0, 9, -1}) {
            for (int i = 0; i < 1000; i++) {
                firsts.add(RoundingRng.stream(key, i).nextLong());
            }
        }
        assertEquals(3000, firsts.size(), "3 keys x 1000 indices give 3000 different first words");
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
