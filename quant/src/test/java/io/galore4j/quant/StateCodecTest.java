package io.galore4j.quant;

import static io.galore4j.quant.GroupQuantizerTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.Buffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class StateCodecTest {

    static Stream<Arguments> codecs() {
        List<Arguments> all = new ArrayList<>();
        for (Moment m : Moment.values()) {
            for (String name : StateCodec.names(m)) {
                all.add(Arguments.of(StateCodec.of(name, m)));
            }
        }
        return all.stream();
    }

    /** Moment-appropriate sample: signed Gaussian-ish for m, positive log-spread for v. */
    static float[] sample(Moment moment, int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = moment == Moment.FIRST ? (float) (r.nextGaussian() * 1e-3)
                    : (float) Math.pow(10, -12 + 6 * r.nextDouble());
        }
        return x;
    }

    @ParameterizedTest
    @MethodSource("codecs")
    void freshStateDecodesToZeros(StateCodec codec) {
        EncodedState s = codec.allocate(33, 31);
        float[] out = new float[s.length()];
        java.util.Arrays.fill(out, 5f);
        codec.decode(s, out, 0);
        for (float v : out) {
            assertEquals(0f, v, 0f);
        }
    }

    /** A length that is not a multiple of the block decodes as if padded with zeros, and stays close. */
    @ParameterizedTest
    @MethodSource("codecs")
    void lengthsNotAMultipleOfTheBlockRoundTrip(StateCodec codec) {
        for (int n : new int[] {1, 7, 129, 300, 4099}) {
            float[] x = sample(codec.moment(), n, n);
            int padded = 512 * ((n + 511) / 512);
            float[] xp = java.util.Arrays.copyOf(x, padded);
            EncodedState s = codec.allocate(1, n);
            EncodedState sp = codec.allocate(1, padded);
            codec.encode(x, 0, s, null);
            codec.encode(xp, 0, sp, null);
            float[] y = new float[n + 2];
            float[] yp = new float[padded];
            codec.decode(s, y, 2);
            codec.decode(sp, yp, 0);
            if (codec.supportsRanges()) {
                assertArrayEquals(java.util.Arrays.copyOf(yp, n), java.util.Arrays.copyOfRange(y, 2, n + 2),
                        codec.name() + " n=" + n);
            }
            float amax = 0;
            for (float v : x) {
                amax = Math.max(amax, Math.abs(v));
            }
            // log grids may round up to Δ from far below (a coarse grid); every other codec is within half the block max
            float bound = codec.name().startsWith("log") ? 1f : 0.5f;
            for (int i = 0; i < n; i++) {
                assertTrue(Math.abs(y[i + 2] - x[i]) <= bound * amax, codec.name() + " n=" + n + " i=" + i);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("codecs")
    void blockRangesEqualWholeTensorCoding(StateCodec codec) {
        if (!codec.supportsRanges()) {
            return;
        }
        int n = 10 * 256 + 77;
        float[] x = sample(codec.moment(), n, 3);
        EncodedState whole = codec.allocate(1, n);
        codec.encode(x, 0, whole, new RoundingRng(5));
        EncodedState ranged = codec.allocate(1, n);
        RoundingRng rng = new RoundingRng(5);
        int step = 3 * 256;
        for (int from = 0; from < n; from += step) {
            int len = Math.min(step, n - from);
            codec.encodeRange(java.util.Arrays.copyOfRange(x, from, from + len), 0, ranged, from, len, rng);
        }
        float[] a = new float[n];
        codec.decode(whole, a, 0);
        float[] b = new float[n];
        for (int from = 0; from < n; from += 256) {
            int len = Math.min(256, n - from);
            codec.decodeRange(ranged, from, len, b, from);
        }
        assertArrayEquals(a, b, codec.name());
    }

    /**
     * A tensor large enough for the parallel whole-tensor path (odd column count, so runs of rows
     * meet inside bytes of 4-bit codes) codes exactly as block ranges in order on one thread; a
     * NaN in it is reported with its index.
     */
    @ParameterizedTest
    @MethodSource("codecs")
    void parallelWholeTensorCodingEqualsRangesInOrder(StateCodec codec) {
        int rows = 515;
        int cols = 513;
        int n = rows * cols;
        assertTrue(n >= BlockCodec.PARALLEL_MIN_ELEMENTS);
        float[] x = sample(codec.moment(), n, 21);
        EncodedState whole = codec.allocate(rows, cols);
        codec.encode(x, 0, whole, new RoundingRng(8));
        float[] a = new float[n];
        codec.decode(whole, a, 0);
        float[] b = new float[n];
        if (codec.supportsRanges()) {
            EncodedState ranged = codec.allocate(rows, cols);
            RoundingRng rng = new RoundingRng(8);
            int step = 4096;
            for (int from = 0; from < n; from += step) {
                int len = Math.min(step, n - from);
                codec.encodeRange(x, from, ranged, from, len, rng);
                codec.decodeRange(ranged, from, len, b, from);
            }
        } else { // rank-1 scaling from its formula: min(row max, column max), level (k + 1)/16
            float[] rowMax = new float[rows];
            float[] colMax = new float[cols];
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    rowMax[i] = Math.max(rowMax[i], x[i * cols + j]);
                    colMax[j] = Math.max(colMax[j], x[i * cols + j]);
                }
            }
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    float scale = Math.min(rowMax[i], colMax[j]);
                    float y16 = x[i * cols + j] * (16f / scale);
                    int k = Math.min(15, Math.max(0, Math.round(y16) - 1));
                    b[i * cols + j] = (k + 1) / 16f * scale;
                }
            }
        }
        for (int i = 0; i < n; i++) {
            assertEquals(b[i], a[i], Math.ulp(b[i]), codec.name() + " at " + i);
        }
        x[n - 5] = Float.NaN;
        assertMessage(() -> codec.encode(x, 0, whole, null), "non-finite value NaN at index " + (n - 5));
    }

    /** Second-moment codecs: a positive v never decodes to 0 (normal floats, spread over 60 decades). */
    @ParameterizedTest
    @MethodSource("codecs")
    void secondMomentCodecsNeverDecodePositiveToZero(StateCodec codec) {
        if (codec.moment() != Moment.SECOND) {
            return;
        }
        Random r = new Random(7);
        int n = 64 * 128;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            int block = i / 128;
            x[i] = (float) Math.pow(10, -37 + (block % 8) * 9 - 30 * r.nextDouble());
            x[i] = Math.max(x[i], Float.MIN_NORMAL);
        }
        x[5] = 1e30f;
        x[6] = Float.MIN_NORMAL;
        EncodedState s = codec.allocate(64, 128);
        for (RoundingRng rng : new RoundingRng[] {null, new RoundingRng(1)}) {
            codec.encode(x, 0, s, rng);
            float[] y = new float[n];
            codec.decode(s, y, 0);
            for (int i = 0; i < n; i++) {
                assertTrue(y[i] > 0, codec.name() + ": " + x[i] + " at " + i + " decoded to " + y[i]);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("codecs")
    void savedPartsLoadIntoAFreshStateAndDecodeIdentically(StateCodec codec) {
        int rows = 17;
        int cols = 300;
        float[] x = sample(codec.moment(), rows * cols, 9);
        EncodedState s = codec.allocate(rows, cols);
        codec.encode(x, 0, s, new RoundingRng(2));
        EncodedState t = codec.allocate(rows, cols);
        for (Map.Entry<String, Buffer> part : s.parts().entrySet()) {
            t.load(part.getKey(), part.getValue());
        }
        float[] a = new float[rows * cols];
        float[] b = new float[rows * cols];
        codec.decode(s, a, 0);
        codec.decode(t, b, 0);
        assertArrayEquals(a, b);
        String first = s.parts().keySet().iterator().next();
        assertMessage(() -> t.load("nope", s.parts().get(first)), "no part 'nope'");
    }

    @ParameterizedTest
    @MethodSource("codecs")
    void bytesPerElementOnAMillionElementTensor(StateCodec codec) {
        EncodedState s = codec.allocate(1024, 1024);
        double perElement = s.bytes() / (double) s.length();
        double limit = switch (codec.bits()) {
            case 32 -> 4.0;
            case 8 -> codec.name().equals("dynamic8") ? 1.02 : 1.07;
            case 4 -> 0.54;
            case 3 -> 0.41;
            case 2 -> 0.29;
            default -> throw new AssertionError(codec.bits());
        };
        assertTrue(perElement <= limit, codec.name() + ": " + perElement + " bytes/element > " + limit);
        long codeBytes = (long) s.length() * codec.bits() / 8;
        assertTrue(s.bytes() >= codeBytes, "bytes() must count the codes");
    }

    @Test
    void exactByteCounts() {
        int n = 1 << 20;
        assertEquals(n + 4L * (n / 256), StateCodec.of("dynamic8", Moment.FIRST).allocate(1, n).bytes());
        assertEquals(n / 2 + 4L * (n / 128), StateCodec.of("de4", Moment.FIRST).allocate(1, n).bytes());
        assertEquals(n / 2 + 4L * 2048, StateCodec.of("linear4nz-rank1", Moment.SECOND).allocate(1024, 1024).bytes());
        assertEquals(3L * n / 8 + 4L * (n / 128), StateCodec.of("log3", Moment.SECOND).allocate(1, n).bytes());
        assertEquals(n / 4 + 4L * (n / 128), StateCodec.of("signed2", Moment.FIRST).allocate(1, n).bytes());
        assertEquals(n + 2L * (n / 32), StateCodec.of("sqrt8", Moment.SECOND).allocate(1, n).bytes());
        assertEquals(4L * n, StateCodec.of("fp32", Moment.SECOND).allocate(1, n).bytes());
    }

    /** Every codec's byte formula (what estimates use) is the bytes its allocated state holds, for ragged shapes too. */
    @Test
    void byteFormulasAreTheAllocatedBytes() {
        for (Moment moment : Moment.values()) {
            for (String name : StateCodec.names(moment)) {
                StateCodec c = StateCodec.of(name, moment);
                for (int[] shape : new int[][] {{64, 64}, {37, 129}, {1, 5001}, {3, 1}}) {
                    long n = (long) shape[0] * shape[1];
                    assertEquals(c.allocate(shape[0], shape[1]).bytes(), c.codeBytes(n) + c.scaleBytes(shape[0], shape[1]),
                            name + " " + shape[0] + "x" + shape[1]);
                }
            }
        }
        for (int bits : new int[] {4, 8}) {
            for (int length : new int[] {1, 255, 256, 257, 5001}) {
                assertEquals(new GroupQuantizer(bits, 64).allocate(length).bytes(), QuantizedTensor.bytes(bits, 64, length),
                        "INT" + bits + " of " + length);
            }
        }
    }

    @Test
    void quantizationThresholdIsExposed() {
        assertEquals(4096, StateCodec.MIN_QUANTIZED_ELEMENTS);
        assertTrue(StateCodec.quantizes(4096));
        assertTrue(!StateCodec.quantizes(4095));
    }

    @ParameterizedTest
    @MethodSource("codecs")
    void nonFiniteAndNegativeInputsAreRejectedWithIndex(StateCodec codec) {
        float[] x = sample(codec.moment(), 2000, 4);
        EncodedState s = codec.allocate(1, 2000);
        x[1234] = Float.NaN;
        assertMessage(() -> codec.encode(x, 0, s, null), codec.name() + " encode: non-finite value NaN at index 1234");
        x[1234] = Float.POSITIVE_INFINITY;
        assertMessage(() -> codec.encode(x, 0, s, null), "non-finite value Infinity at index 1234");
        if (codec.moment() == Moment.SECOND) {
            x[1234] = -1e-3f;
            assertMessage(() -> codec.encode(x, 0, s, null), "negative value -0.001 at index 1234");
        }
    }

    @Test
    void badNamesMomentsAndRangesAreRejected() {
        assertMessage(() -> StateCodec.of("int7", Moment.FIRST), "unknown state codec 'int7' for the FIRST moment");
        assertMessage(() -> StateCodec.of("log2", Moment.FIRST), "'log2' stores the SECOND moment, not the FIRST");
        assertMessage(() -> StateCodec.of("softsign8", Moment.SECOND), "'softsign8' stores the FIRST moment, not the SECOND");
        assertMessage(() -> StateCodec.of("dynamic8", null), "moment must not be null");
        StateCodec d8 = StateCodec.of("dynamic8", Moment.FIRST);
        EncodedState s = d8.allocate(1, 1000);
        float[] x = new float[1000];
        assertMessage(() -> d8.encodeRange(x, 0, s, 100, 256, null), "not aligned to blocks of 256");
        assertMessage(() -> d8.encodeRange(x, 0, s, 768, 256, null), "outside [0, 1000)");
        assertMessage(() -> d8.encode(new float[10], 0, s, null), "src range");
        EncodedState other = StateCodec.of("de4", Moment.FIRST).allocate(1, 1000);
        assertMessage(() -> d8.decode(other, x, 0), "belongs to codec 'de4'");
        StateCodec rank1 = StateCodec.of("linear4nz-rank1", Moment.SECOND);
        EncodedState r = rank1.allocate(10, 100);
        assertMessage(() -> rank1.encodeRange(x, 0, r, 0, 500, null), "whole tensors only");
        assertMessage(() -> d8.allocate(-1, 3), "bad shape -1x3");
    }
}
