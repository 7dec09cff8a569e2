package io.galore4j.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class GroupQuantizerTest {

    private static float[] gaussian(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    @ParameterizedTest
    @ValueSource(ints = {4, 8})
    void nearestRoundTripIsWithinHalfAStepForLengthsNotAMultipleOfTheGroup(int bits) {
        GroupQuantizer gq = new GroupQuantizer(bits);
        for (int n : new int[] {0, 1, 3, 255, 257, 1000, 4097}) {
            float[] x = gaussian(n, n);
            QuantizedTensor q = gq.quantize(x, 0, n, Rounding.NEAREST, null);
            assertEquals(n, q.length());
            float[] y = new float[n];
            gq.dequantize(q, y, 0);
            for (int i = 0; i < n; i++) {
                float step = q.scales().get(i / 256);
                assertEquals(x[i], y[i], step / 2 * 1.0001f + 1e-6f, "n=" + n + " i=" + i);
                assertEquals(y[i], q.get(i), 0f);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {4, 8})
    void groupMinimumAndMaximumAreExactAndConstantGroupsDecodeExactly(int bits) {
        GroupQuantizer gq = new GroupQuantizer(bits, 4);
        float[] x = {-1.5f, 0.3f, 2.25f, 0.1f, 7f, 7f, 7f, 7f};
        QuantizedTensor q = gq.quantize(x, 0, x.length, Rounding.NEAREST, null);
        assertEquals(-1.5f, q.get(0), 0f);
        assertEquals(2.25f, q.get(2), 1e-6f);
        for (int i = 4; i < 8; i++) {
            assertEquals(7f, q.get(i), 0f);
        }
    }

    @Test
    void int4PacksTwoCodesPerByteLowNibbleFirst() {
        GroupQuantizer gq = new GroupQuantizer(4, 16);
        float[] x = new float[17];
        for (int i = 0; i < 16; i++) {
            x[i] = 15 - i; // codes 15, 14, ..., 0
        }
        x[16] = 5;
        QuantizedTensor q = gq.quantize(x, 0, x.length, Rounding.NEAREST, null);
        ByteBuffer codes = q.codes();
        assertEquals(9, codes.remaining());
        assertEquals((byte) (15 | (14 << 4)), codes.get(0));
        assertEquals((byte) (1 | (0 << 4)), codes.get(7));
        assertEquals(0, q.code(16)); // single-element group: scale 0, code 0, decodes to 5
        assertEquals(5f, q.get(16), 0f);
        for (int i = 0; i < 16; i++) {
            assertEquals(15 - i, q.code(i));
        }
    }

    /** Q-GaLore's claim: E[x̂] = x under stochastic rounding; round-to-nearest is biased. */
    @ParameterizedTest
    @ValueSource(ints = {4, 8})
    void stochasticRoundingIsUnbiasedAndNearestIsNot(int bits) {
        int maxCode = (1 << bits) - 1;
        GroupQuantizer gq = new GroupQuantizer(bits, 4);
        float target = maxCode * 0.37f + 0.3f; // frac 0.3 plus a bit: between two codes
        float[] x = {0f, target, maxCode, 1f}; // scale = 1, zero point = 0
        RoundingRng rng = new RoundingRng(11);
        QuantizedTensor q = gq.allocate(4);
        int trials = 10_000;
        double sum = 0;
        for (int t = 0; t < trials; t++) {
            gq.requantize(q, x, 0, Rounding.STOCHASTIC, rng);
            sum += q.get(1);
        }
        double frac = target - Math.floor(target);
        double standardError = Math.sqrt(frac * (1 - frac) / trials);
        assertEquals(target, sum / trials, 4 * standardError);
        gq.requantize(q, x, 0, Rounding.NEAREST, null);
        assertTrue(Math.abs(q.get(1) - target) > 4 * standardError,
                "nearest rounding should be biased for " + target + ", got " + q.get(1));
    }

    /**
     * A value on a code stays there under stochastic rounding, except where the float sum of t and
     * the uniform rounds to a tie (probability about 2⁻¹⁷ per element for t below 256); values a
     * quarter step above a code go up about a quarter of the time.
     */
    @ParameterizedTest
    @ValueSource(ints = {4, 8})
    void stochasticRoundingKeepsValuesOnCodes(int bits) {
        int levels = 1 << bits;
        int groups = (1 << 20) / levels;
        GroupQuantizer gq = new GroupQuantizer(bits, levels);
        float[] onCodes = new float[groups * levels];
        float[] quarter = new float[groups * levels];
        for (int i = 0; i < onCodes.length; i++) {
            int code = i % levels;
            onCodes[i] = code; // every group spans 0 .. levels − 1: scale 1, zero point 0
            quarter[i] = code == 0 || code == levels - 1 ? code : code + 0.25f;
        }
        QuantizedTensor q = gq.quantize(onCodes, 0, onCodes.length, Rounding.STOCHASTIC, new RoundingRng(3));
        int moved = 0;
        for (int i = 0; i < onCodes.length; i++) {
            moved += q.get(i) != onCodes[i] ? 1 : 0;
        }
        assertTrue(moved <= onCodes.length >> 16, moved + " of " + onCodes.length + " values on a code moved");
        q = gq.quantize(quarter, 0, quarter.length, Rounding.STOCHASTIC, new RoundingRng(4));
        int up = 0;
        int inner = 0;
        for (int i = 0; i < quarter.length; i++) {
            int code = i % levels;
            if (code != 0 && code != levels - 1) {
                inner++;
                up += q.get(i) == code + 1 ? 1 : 0;
            }
        }
        assertEquals(0.25, up / (double) inner, 4 * Math.sqrt(0.25 * 0.75 / inner), "share rounded up");
    }

    @ParameterizedTest
    @ValueSource(ints = {4, 8})
    void floatBufferPathsMatchArrayPaths(int bits) {
        GroupQuantizer gq = new GroupQuantizer(bits);
        int n = 40_001;
        float[] x = gaussian(n, 5);
        FloatBuffer direct = ByteBuffer.allocateDirect(4 * (n + 3)).order(ByteOrder.nativeOrder()).asFloatBuffer();
        direct.put(3, x, 0, n);
        QuantizedTensor fromArray = gq.quantize(x, 0, n, Rounding.STOCHASTIC, new RoundingRng(9));
        QuantizedTensor fromBuffer = gq.quantize(direct, 3, n, Rounding.STOCHASTIC, new RoundingRng(9));
        assertEquals(fromArray.codes(), fromBuffer.codes());
        assertEquals(fromArray.scales(), fromBuffer.scales());
        assertEquals(fromArray.zeroPoints(), fromBuffer.zeroPoints());
        FloatBuffer out = ByteBuffer.allocateDirect(4 * (n + 1)).order(ByteOrder.nativeOrder()).asFloatBuffer();
        gq.dequantize(fromBuffer, out, 1);
        float[] expected = new float[n];
        gq.dequantize(fromArray, expected, 0);
        float[] actual = new float[n];
        out.get(1, actual, 0, n);
        assertArrayEquals(expected, actual);
    }

    @Test
    void requantizeReusesStorage() {
        GroupQuantizer gq = new GroupQuantizer(8);
        float[] x = gaussian(1000, 1);
        QuantizedTensor q = gq.quantize(x, 0, 1000, Rounding.NEAREST, null);
        byte[] codes = q.codes;
        float[] scales = q.scales;
        x[500] = 100f;
        gq.requantize(q, x, 0, Rounding.NEAREST, null);
        assertSame(codes, q.codes);
        assertSame(scales, q.scales);
        assertEquals(100f, q.get(500), 1e-4f);
    }

    @ParameterizedTest
    @ValueSource(ints = {4, 8})
    void bytesPerElementOnALargeTensor(int bits) {
        int n = 1 << 20;
        QuantizedTensor q = new GroupQuantizer(bits).allocate(n);
        long expected = (long) n * bits / 8 + 8L * (n / 256);
        assertEquals(expected, q.bytes());
        double perElement = (double) q.bytes() / n;
        assertTrue(perElement <= (bits == 8 ? 1.04 : 0.54), "bytes/element " + perElement);
    }

    @Test
    void restoringFromRawArraysRoundTripsAndValidates() {
        GroupQuantizer gq = new GroupQuantizer(4);
        float[] x = gaussian(600, 2);
        QuantizedTensor q = gq.quantize(x, 0, 600, Rounding.NEAREST, null);
        byte[] codes = new byte[q.codes().remaining()];
        q.codes().get(codes);
        float[] scales = new float[q.groupCount()];
        q.scales().get(scales);
        float[] zeros = new float[q.groupCount()];
        q.zeroPoints().get(zeros);
        QuantizedTensor r = new QuantizedTensor(4, 256, 600, codes, scales, zeros);
        for (int i = 0; i < 600; i++) {
            assertEquals(q.get(i), r.get(i), 0f);
        }
        assertMessage(() -> new QuantizedTensor(4, 256, 600, new byte[299], scales, zeros), "codes");
        assertMessage(() -> new QuantizedTensor(4, 256, 600, codes, new float[2], zeros), "scales");
        float[] bad = scales.clone();
        bad[1] = Float.NaN;
        assertMessage(() -> new QuantizedTensor(4, 256, 600, codes, bad, zeros), "scales[1]");
    }

    /**
     * Large tensors are rounded by several threads in runs of 16,384 elements, element i with
     * RoundingRng.counterWords(one draw of the caller's generator, i): the same seed gives the same codes
     * every time, and the first run's codes equal those of its elements quantized alone (a tensor
     * under the parallel threshold, one run, on this thread) with the same seed.
     */
    @ParameterizedTest
    @ValueSource(ints = {4, 8})
    void largeTensorsRoundTheSameOnSeveralThreadsAsRunByRun(int bits) {
        GroupQuantizer gq = new GroupQuantizer(bits);
        int n = GroupQuantizer.PARALLEL_MIN_ELEMENTS * 2 + 1001;
        float[] x = gaussian(n, 21);
        QuantizedTensor a = gq.quantize(x, 0, n, Rounding.STOCHASTIC, new RoundingRng(5));
        QuantizedTensor b = gq.quantize(x, 0, n, Rounding.STOCHASTIC, new RoundingRng(5));
        QuantizedTensor c = gq.quantize(x, 0, n, Rounding.STOCHASTIC, new RoundingRng(6));
        QuantizedTensor first = gq.quantize(x, 0, 1 << 14, Rounding.STOCHASTIC, new RoundingRng(5));
        int differ = 0;
        for (int i = 0; i < n; i++) {
            assertEquals(a.code(i), b.code(i), "element " + i);
            if (a.code(i) != c.code(i)) {
                differ++;
            }
        }
        for (int i = 0; i < 1 << 14; i++) {
            assertEquals(first.code(i), a.code(i), "element " + i + " of the first run");
        }
        assertTrue(differ > n / 20, "another seed rounds differently: " + differ + " of " + n);
        float[] decoded = new float[n];
        gq.dequantize(a, decoded, 0);
        float[] serial = new float[1 << 14];
        gq.dequantize(first, serial, 0);
        for (int i = 0; i < n; i++) {
            int g = i / gq.groupSize();
            float step = a.scales[g];
            assertTrue(Math.abs(decoded[i] - x[i]) <= step * 1.0001f + 1e-7f, "element " + i + " within a step");
            assertEquals(a.zeroPoints[g] + a.code(i) * step, decoded[i], Math.ulp(decoded[i]) * 2, "element " + i);
        }
        for (int i = 0; i < serial.length; i++) {
            assertEquals(serial[i], decoded[i], "element " + i + " decodes alike alone and in parallel");
        }
    }

    @Test
    void aNonFiniteValueInALargeTensorIsNamedAsInASmallOne() {
        GroupQuantizer gq = new GroupQuantizer(8);
        int n = GroupQuantizer.PARALLEL_MIN_ELEMENTS * 2;
        float[] x = gaussian(n, 4);
        x[n - 77] = Float.NaN;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> gq.quantize(x, 0, n, Rounding.STOCHASTIC, new RoundingRng(1)));
        assertEquals("INT8 quantize: non-finite value NaN at index " + (n - 77), e.getMessage());
    }

    @Test
    void badInputThrowsWithAMessageNamingTheProblem() {
        assertMessage(() -> new GroupQuantizer(3), "bits must be 4 or 8, got 3");
        assertMessage(() -> new GroupQuantizer(8, 0), "groupSize must be > 0, got 0");
        assertMessage(() -> new GroupQuantizer(4, 255), "even");
        GroupQuantizer gq = new GroupQuantizer(8);
        float[] x = gaussian(2000, 3);
        x[1234] = Float.NaN;
        assertMessage(() -> gq.quantize(x, 0, 2000, Rounding.NEAREST, null), "non-finite value NaN at index 1234");
        x[1234] = Float.NEGATIVE_INFINITY;
        assertMessage(() -> gq.quantize(x, 0, 2000, Rounding.NEAREST, null), "-Infinity at index 1234");
        x[1234] = 0;
        assertMessage(() -> gq.quantize(x, 0, 2000, Rounding.STOCHASTIC, null), "rng");
        assertMessage(() -> gq.quantize(x, 10, 2000, Rounding.NEAREST, null), "src: range");
        QuantizedTensor int4 = new GroupQuantizer(4).allocate(10);
        assertMessage(() -> gq.dequantize(int4, new float[10], 0), "does not match");
    }

    static void assertMessage(org.junit.jupiter.api.function.Executable call, String fragment) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(fragment), "message '" + e.getMessage() + "' lacks '" + fragment + "'");
    }
}
