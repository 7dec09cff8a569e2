package io.galore4j.trainer.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Picking a token: greedy is the arg max, top-k never leaves the k largest, draws follow softmax(l/T). */
class SamplerTest {

    private static final float[] LOGITS = {0.5f, 2.0f, -1.0f, 1.5f, 2.0f, 0.0f};

    @Test
    void temperatureZeroIsTheArgmaxLowestIndexOnTies() {
        Sampler s = new Sampler(0, 0, 1);
        assertEquals(1, s.next(LOGITS, LOGITS.length));
        assertEquals(1, s.next(new float[] {0f, 1f, 0.5f, 9f}, 3), "only the first vocab entries count");
        assertEquals(0, s.next(LOGITS, 1));
    }

    @Test
    void topKDrawsOnlyAmongTheKLargest() {
        Sampler s = new Sampler(5.0, 3, 2); // a high temperature would otherwise reach every token
        for (int i = 0; i < 2000; i++) {
            int t = s.next(LOGITS, LOGITS.length);
            assertTrue(t == 1 || t == 4 || t == 3, "token " + t + " is not among the 3 largest");
        }
    }

    @Test
    void drawFrequenciesFollowTheTemperedSoftmax() {
        double temperature = 0.7;
        Sampler s = new Sampler(temperature, 0, 3);
        int n = 40_000;
        int[] counts = new int[LOGITS.length];
        for (int i = 0; i < n; i++) {
            counts[s.next(LOGITS, LOGITS.length)]++;
        }
        double z = 0;
        for (float l : LOGITS) {
            z += Math.exp(l / temperature);
        }
        for (int i = 0; i < LOGITS.length; i++) {
            double p = Math.exp(LOGITS[i] / temperature) / z;
            double sd = Math.sqrt(p * (1 - p) / n);
            assertEquals(p, counts[i] / (double) n, 5 * sd + 1e-4, "token " + i);
        }
    }

    @Test
    void aFixedSeedGivesAFixedSequence() {
        int[] a = new int[50];
        int[] b = new int[50];
        Sampler s1 = new Sampler(1.0, 0, 42);
        Sampler s2 = new Sampler(1.0, 0, 42);
        for (int i = 0; i < a.length; i++) {
            a[i] = s1.next(LOGITS, LOGITS.length);
            b[i] = s2.next(LOGITS, LOGITS.length);
        }
        assertArrayEquals(a, b);
    }

    @Test
    void badSettingsAreRejectedNamingTheOption() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Sampler(-0.1, 0, 1))
                .getMessage().contains("--temperature"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Sampler(Double.NaN, 0, 1))
                .getMessage().contains("--temperature"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Sampler(1, -1, 1))
                .getMessage().contains("--top-k"));
    }
}
