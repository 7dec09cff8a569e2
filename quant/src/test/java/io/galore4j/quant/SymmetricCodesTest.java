package io.galore4j.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Symmetric group codes: x̂_i = Δ_g · q_i, q_i ∈ [−Q, Q], Δ_g = max|x| / Q, nearest rounding. */
class SymmetricCodesTest {

    private static float[] gaussian(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (0.05 * r.nextGaussian());
        }
        return x;
    }

    private static double[] decode(SymmetricCodes c, float[] scales) {
        double[] y = new double[c.length()];
        for (int g = 0; g < c.groupCount(); g++) {
            c.decodeGroup(g, scales[g], y, g * c.groupSize());
        }
        return y;
    }

    @ParameterizedTest
    @ValueSource(ints = {4, 8})
    void roundTripIsWithinHalfAScaleAndCodesStayWithinQ(int bits) {
        int q = SymmetricCodes.maxCode(bits);
        assertEquals(bits == 8 ? 127 : 7, q);
        for (int n : new int[] {0, 1, 3, 255, 257, 1000}) {
            float[] x = gaussian(n, n);
            float[] scales = new float[SymmetricCodes.groupCount(n, 256)];
            SymmetricCodes c = SymmetricCodes.encode(bits, 256, FloatBuffer.wrap(x), 0, n, scales);
            double[] y = decode(c, scales);
            for (int i = 0; i < n; i++) {
                int g = i / 256;
                assertTrue(Math.abs(c.code(i)) <= q, "code " + c.code(i));
                assertEquals(x[i], y[i], scales[g] / 2 * 1.0001 + 1e-9, "bits=" + bits + " n=" + n + " i=" + i);
            }
            for (int g = 0; g < scales.length; g++) { // Δ_g = max |x| / Q
                float max = 0;
                for (int i = g * 256; i < Math.min(n, (g + 1) * 256); i++) {
                    max = Math.max(max, Math.abs(x[i]));
                }
                assertEquals(max / q, scales[g], 0f);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {4, 8})
    void decodingIsLinearInTheScaleAndKeepsSigns(int bits) {
        float[] x = {-0.7f, -0.1f, 0f, 0.35f, 0.7f, -0.2f};
        float[] scales = new float[3];
        SymmetricCodes c = SymmetricCodes.encode(bits, 2, FloatBuffer.wrap(x), 0, x.length, scales);
        double[] half = new double[2];
        double[] twice = new double[2];
        for (int g = 0; g < 3; g++) {
            c.decodeGroup(g, scales[g], half, 0);
            c.decodeGroup(g, 2.0 * scales[g], twice, 0);
            for (int j = 0; j < 2; j++) {
                assertEquals(2 * half[j], twice[j], 0.0);
                assertEquals(Math.signum(x[2 * g + j]), Math.signum(twice[j]), 0.0, "sign of element " + (2 * g + j));
            }
        }
        assertEquals(-SymmetricCodes.maxCode(bits), c.code(0), "the group's largest magnitude is ±Q");
        assertEquals(SymmetricCodes.maxCode(bits), c.code(4));
    }

    @Test
    void aGroupOfZerosHasScaleZeroAndTheBufferPositionIsIgnored() {
        float[] x = {9f, 0f, 0f, 0f, 0f, 1f, -1f, 0.5f, 0.25f};
        FloatBuffer buf = FloatBuffer.wrap(x);
        buf.position(7);
        float[] scales = new float[2];
        SymmetricCodes c = SymmetricCodes.encode(4, 4, buf, 1, 8, scales);
        assertEquals(0f, scales[0]);
        assertEquals(1f / 7, scales[1], 0f);
        for (int i = 0; i < 4; i++) {
            assertEquals(0, c.code(i));
        }
        assertEquals(7, c.code(4));
        assertEquals(-7, c.code(5));
        assertEquals(4, c.code(6)); // 0.5 · 7 = 3.5 rounds to 4
        assertEquals(2, c.code(7)); // 0.25 · 7 = 1.75 rounds to 2
        assertEquals(4, c.bytes(), "two INT4 codes per byte");
    }

    @Test
    void nonFiniteInputsAndBadFormatsAreRefused() {
        float[] x = {0.1f, Float.NaN, 0.2f};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SymmetricCodes.encode(8, 256, FloatBuffer.wrap(x), 0, 3, new float[1]));
        assertTrue(e.getMessage().contains("index 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> SymmetricCodes.encode(3, 256, FloatBuffer.wrap(x), 0, 1, new float[1]));
        assertThrows(IllegalArgumentException.class,
                () -> SymmetricCodes.encode(8, 256, FloatBuffer.wrap(x), 0, 3, new float[2]));
    }
}
