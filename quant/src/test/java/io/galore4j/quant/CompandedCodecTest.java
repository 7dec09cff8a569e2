package io.galore4j.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * softsign8 and sqrt8 against their formulas (CompandedCodec's javadoc), computed here in
 * double: each block's scale is the smallest bfloat16 ≥ its maximum, and each code is the
 * rounded companded value. Where the exact value lies within 1e-4 of a rounding tie, float
 * arithmetic may pick either neighbour, and the test accepts both.
 */
class CompandedCodecTest {
    private static final int BLOCK = 32;
    private static final double TIE = 1e-4;

    /** Magnitudes over 12 decades, and exact zeros, so blocks of very different scales occur. */
    private static float[] sample(boolean positive, int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            double magnitude = Math.pow(10, -10 + 12 * r.nextDouble()) * r.nextDouble();
            x[i] = i % 97 == 0 ? 0f : (float) (positive || r.nextBoolean() ? magnitude : -magnitude);
        }
        return x;
    }

    /** Smallest bfloat16 ≥ s, from the definition: scan upwards over the 2¹⁶ bfloat16 bit patterns. */
    private static double bf16AtLeast(double s) {
        for (int h = 0; h < 0x7F80; h++) {
            double v = Float.intBitsToFloat(h << 16);
            if (v >= s) {
                return v;
            }
        }
        throw new AssertionError("no finite bfloat16 >= " + s);
    }

    @Test
    void softsign8CodesAreTheRoundedCompandedValues() {
        StateCodec codec = StateCodec.of("softsign8", Moment.FIRST);
        int n = 64 * BLOCK + 5;
        float[] x = sample(false, n, 3);
        EncodedState s = codec.allocate(1, n);
        codec.encode(x, 0, s, null);
        float[] decoded = new float[n];
        codec.decode(s, decoded, 0);
        int ties = 0;
        for (int b = 0; b * BLOCK < n; b++) {
            int from = b * BLOCK;
            int to = Math.min(n, from + BLOCK);
            double amax = 0;
            for (int i = from; i < to; i++) {
                amax = Math.max(amax, Math.abs(x[i]));
            }
            double scale = bf16AtLeast(amax);
            assertEquals(scale, CompandedCodec.bf16(s.halfScales[b]), 0.0, "block " + b + " scale");
            for (int i = from; i < to; i++) {
                double z = scale == 0 ? 0 : x[i] / scale;
                double t = 127 * (2 * z / (1 + Math.abs(z)));
                long code = Math.round(t);
                int actual = s.codes[i];
                if (Math.abs(Math.abs(t - Math.floor(t)) - 0.5) < TIE) {
                    ties++;
                    assertTrue(actual == (long) Math.floor(t) || actual == (long) Math.ceil(t), "element " + i);
                } else {
                    assertEquals(code, actual, "element " + i + " x=" + x[i] + " t=" + t);
                }
                double y = actual / 127.0;
                assertEquals((float) (y / (2 - Math.abs(y))) * (float) scale, decoded[i],
                        1e-6 * Math.abs(decoded[i]), "decoded element " + i);
            }
        }
        assertTrue(ties < n / 100, "ties " + ties);
    }

    @Test
    void sqrt8CodesAreTheRoundedRootsAndPositivesNeverDecodeToZero() {
        StateCodec codec = StateCodec.of("sqrt8", Moment.SECOND);
        int n = 64 * BLOCK + 5;
        float[] x = sample(true, n, 4);
        x[40] = Float.MIN_VALUE; // a block whose tiny positive entry rounds to code 0 without the floor of 1
        EncodedState s = codec.allocate(1, n);
        codec.encode(x, 0, s, null);
        float[] decoded = new float[n];
        codec.decode(s, decoded, 0);
        int raised = 0;
        for (int b = 0; b * BLOCK < n; b++) {
            int from = b * BLOCK;
            int to = Math.min(n, from + BLOCK);
            float amax = 0;
            for (int i = from; i < to; i++) {
                amax = Math.max(amax, x[i]);
            }
            double scale = bf16AtLeast((float) Math.sqrt(amax));
            assertEquals(scale, CompandedCodec.bf16(s.halfScales[b]), 0.0, "block " + b + " scale");
            for (int i = from; i < to; i++) {
                double t = 255 * Math.sqrt(x[i]) / scale;
                int actual = s.codes[i] & 0xFF;
                long code = Math.min(255, Math.round(t));
                if (code == 0 && x[i] > 0) {
                    code = 1;
                    raised++;
                }
                if (Math.abs(Math.abs(t - Math.floor(t)) - 0.5) < TIE) {
                    assertTrue(Math.abs(actual - t) < 0.5 + TIE, "element " + i);
                } else {
                    assertEquals(code, actual, "element " + i + " x=" + x[i] + " t=" + t);
                }
                if (x[i] > 0) {
                    assertTrue(decoded[i] > 0, "positive element " + i + " decoded to 0");
                }
                double r = actual / 255.0 * scale;
                assertEquals(r * r, decoded[i], 1e-6 * decoded[i], "decoded element " + i);
            }
        }
        assertTrue(raised > 0, "the sample should exercise the floor of code 1");
    }
}
