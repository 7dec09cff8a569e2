package io.galore4j.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** SOLO log-grid codecs: grid shape, zeros, and log-domain stochastic rounding. */
class LogCodecTest {

    /**
     * Block: max 1, 127 values 10⁻³ (so x_p = 10⁻³, a = round(−4·log2 10⁻³) = 40,
     * α = 2^(−40/(4L))), and one target at α^t. Stochastic rounding gives E[code] = t (within
     * 4 standard errors over 10,000 encodings); log-domain round-to-nearest gives round(t).
     */
    @ParameterizedTest
    @ValueSource(ints = {2, 3})
    void logDomainStochasticRoundingIsUnbiasedAndNearestIsNot(int bits) {
        int maxCode = (1 << bits) - 1;
        double log2Alpha = -40.0 / (4 * maxCode);
        double t = bits == 2 ? 1.3 : 2.4;
        float[] x = new float[128];
        java.util.Arrays.fill(x, 1e-3f);
        x[0] = 1f;
        x[77] = (float) Math.pow(2, log2Alpha * t);
        double exactT = Math.log(x[77]) / Math.log(2) / log2Alpha;
        StateCodec codec = StateCodec.of("log" + bits, Moment.SECOND);
        EncodedState s = codec.allocate(1, 128);
        float[] y = new float[128];
        RoundingRng rng = new RoundingRng(21);
        int trials = 10_000;
        double sum = 0;
        for (int i = 0; i < trials; i++) {
            codec.encode(x, 0, s, rng);
            codec.decode(s, y, 0);
            sum += codeOf(y[77], log2Alpha);
        }
        double frac = exactT - Math.floor(exactT);
        double standardError = Math.sqrt(frac * (1 - frac) / trials);
        assertEquals(exactT, sum / trials, 4 * standardError);
        codec.encode(x, 0, s, null);
        codec.decode(s, y, 0);
        double nearest = codeOf(y[77], log2Alpha);
        assertEquals(Math.rint(exactT), nearest, 1e-3);
        assertTrue(Math.abs(nearest - exactT) > 4 * standardError);
    }

    private static double codeOf(float decoded, double log2Alpha) {
        return Math.rint(Math.log(decoded) / Math.log(2) / log2Alpha * 1000) / 1000;
    }

    /** Decoded values lie on Δ·α^c, α^L within a quarter octave of the 10% quantile; zeros and all-zero blocks. */
    @ParameterizedTest
    @ValueSource(ints = {2, 3})
    void decodedValuesLieOnTheQuantileGrid(int bits) {
        int maxCode = (1 << bits) - 1;
        Random r = new Random(bits);
        float[] x = new float[384];
        for (int i = 0; i < 256; i++) {
            x[i] = (float) Math.pow(10, -10 + 4 * r.nextDouble());
        }
        x[3] = 0f; // exact zero in a live block; block 2 (256..383) is all zeros
        StateCodec codec = StateCodec.of("log" + bits, Moment.SECOND);
        EncodedState s = codec.allocate(3, 128);
        codec.encode(x, 0, s, new RoundingRng(4));
        float[] y = new float[384];
        codec.decode(s, y, 0);
        LogCodec log = (LogCodec) codec;
        for (int b = 0; b < 2; b++) {
            float max = 0;
            float[] nonzero = new float[128];
            int nz = 0;
            for (int i = 128 * b; i < 128 * (b + 1); i++) {
                max = Math.max(max, x[i]);
                if (x[i] > 0) {
                    nonzero[nz++] = x[i];
                }
            }
            java.util.Arrays.sort(nonzero, 0, nz);
            double xp = nonzero[(int) (0.1 * (nz - 1))] / max;
            float[] levels = log.levels(s.scales[b]);
            assertEquals(max, levels[0], max * 0x1p-15f, "Δ = block max");
            double ratio = levels[maxCode] / levels[0] / xp; // α^L / x_p
            assertTrue(ratio > Math.pow(2, -0.126) && ratio < Math.pow(2, 0.126), "α^L vs x_p: " + ratio);
            for (int i = 128 * b; i < 128 * (b + 1); i++) {
                boolean onGrid = false;
                for (float level : levels) {
                    onGrid |= y[i] == level;
                }
                assertTrue(onGrid, "off grid: " + y[i]);
            }
        }
        assertEquals(log.levels(s.scales[0])[maxCode], y[3], 0f, "a zero decodes to the smallest level");
        for (int i = 256; i < 384; i++) {
            assertEquals(0f, y[i], 0f, "all-zero block decodes to zeros");
        }
    }
}
