package io.galore4j.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Groups the reference quantizer gets wrong, and the ones at the edges of fp32: a quantizer whose
 * zero point is a clamped integer code clips every group of one sign, so here each group (one
 * sign, constant, zero, one tiny value among zeros, tiny or huge ranges, a group of one element)
 * is checked against the format's own bound. Asymmetric codes ({@link GroupQuantizer}, INT4 bases
 * and INT8 weights): with s = (max − min)/(2^bits − 1) of the group, round to nearest decodes
 * within s/2 and stochastic rounding within s of every element; symmetric codes
 * ({@link SymmetricCodes}): with Δ = max|x|/(2^(bits−1) − 1), within Δ/2. Both plus a float
 * tolerance of 4 ulps of the group's largest magnitude (and 10⁻⁵ of a step); a constant group
 * decodes exactly.
 */
class GroupEdgeCasesTest {
    private static final int GROUP = GroupQuantizer.DEFAULT_GROUP_SIZE;

    /** Named groups of {@value #GROUP} elements (or fewer, for the one-element group). */
    static Stream<Arguments> groups() {
        Random r = new Random(3);
        List<Arguments> out = new ArrayList<>();
        out.add(Arguments.of("all positive", fill(r, 1f, 3f)));
        out.add(Arguments.of("all negative", fill(r, -3f, -1f)));
        out.add(Arguments.of("all positive, far from zero", fill(r, 1000f, 1000.01f)));
        out.add(Arguments.of("all negative, tiny", fill(r, -2e-30f, -1e-30f)));
        out.add(Arguments.of("mixed signs", fill(r, -1f, 2f)));
        out.add(Arguments.of("constant positive", constant(3.7f)));
        out.add(Arguments.of("constant negative", constant(-2.25f)));
        out.add(Arguments.of("constant zero", constant(0f)));
        out.add(Arguments.of("constant tiny", constant(Float.MIN_VALUE)));
        for (float tiny : new float[] {1e-30f, 1e-37f, 1e-38f, 5e-40f, 1e-44f, Float.MIN_VALUE}) {
            float[] g = new float[GROUP];
            g[GROUP / 3] = tiny;
            out.add(Arguments.of("zeros and one tiny value " + tiny, g));
            float[] neg = new float[GROUP];
            neg[7] = -tiny;
            out.add(Arguments.of("zeros and one tiny negative value " + -tiny, neg));
        }
        out.add(Arguments.of("denormals only", fill(r, 0f, 200 * Float.MIN_VALUE)));
        out.add(Arguments.of("one element", new float[] {-5.5f}));
        out.add(Arguments.of("one tiny element", new float[] {1e-40f}));
        out.add(Arguments.of("wide but finite range", fill(r, -1e38f, 1e38f)));
        return out.stream();
    }

    private static float[] fill(Random r, float lo, float hi) {
        float[] g = new float[GROUP];
        for (int i = 0; i < GROUP; i++) {
            g[i] = lo + (hi - lo) * r.nextFloat();
        }
        g[0] = lo;
        g[GROUP - 1] = hi;
        return g;
    }

    private static float[] constant(float v) {
        float[] g = new float[GROUP];
        java.util.Arrays.fill(g, v);
        return g;
    }

    /** 4 ulps of the group's largest magnitude and 10⁻⁵ of a step: fp32 rounding of the scale and decode. */
    private static double tolerance(float[] g, double step) {
        float big = 0f;
        for (float x : g) {
            big = Math.max(big, Math.abs(x));
        }
        return 4 * Math.ulp(big) + 1e-5 * step;
    }

    @ParameterizedTest(name = "INT{1} {2}: {0}")
    @MethodSource("asymmetricCases")
    void asymmetricCodesDecodeWithinTheFormatsBound(String name, int bits, Rounding rounding, float[] g) {
        GroupQuantizer gq = new GroupQuantizer(bits);
        // after a group of other values; a full group twice, so it is also followed by one
        int copies = g.length == GROUP ? 2 : 1;
        float[] x = new float[GROUP + copies * g.length];
        for (int i = 0; i < GROUP; i++) {
            x[i] = i - 100f;
        }
        for (int c = 0; c < copies; c++) {
            System.arraycopy(g, 0, x, GROUP + c * GROUP, g.length);
        }
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (float v : g) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        double step = ((double) max - min) / ((1 << bits) - 1);
        double bound = (rounding == Rounding.NEAREST ? step / 2 : step) + tolerance(g, step);
        QuantizedTensor q = gq.quantize(x, 0, x.length, rounding, new RoundingRng(9));
        float[] y = new float[x.length];
        gq.dequantize(q, y, 0);
        for (int i = GROUP; i < x.length; i++) {
            double err = Math.abs((double) y[i] - x[i]);
            assertTrue(err <= bound, name + ": element " + i + " = " + x[i] + " decodes to " + y[i] + ", error " + err
                    + " > " + bound + " (step " + step + ", stored scale " + q.scales().get(i / GROUP) + ")");
            if (min == max) {
                assertEquals(x[i], y[i], 0f, name + ": a constant group decodes exactly");
            }
        }
    }

    static Stream<Arguments> asymmetricCases() {
        List<Arguments> out = new ArrayList<>();
        groups().forEach(a -> {
            for (int bits : new int[] {4, 8}) {
                for (Rounding rounding : Rounding.values()) {
                    out.add(Arguments.of(a.get()[0], bits, rounding, a.get()[1]));
                }
            }
        });
        return out.stream();
    }

    @ParameterizedTest(name = "INT{1}: {0}")
    @MethodSource("symmetricCases")
    void symmetricCodesDecodeWithinTheFormatsBound(String name, int bits, float[] g) {
        float[] scales = new float[SymmetricCodes.groupCount(g.length, GROUP)];
        SymmetricCodes c = SymmetricCodes.encode(bits, GROUP, FloatBuffer.wrap(g), 0, g.length, scales);
        float big = 0f;
        for (float v : g) {
            big = Math.max(big, Math.abs(v));
        }
        double step = (double) big / SymmetricCodes.maxCode(bits);
        double bound = step / 2 + tolerance(g, step);
        for (int i = 0; i < g.length; i++) {
            double decoded = (double) scales[0] * c.code(i);
            float y = (float) decoded;
            double err = Math.abs(y - (double) g[i]);
            assertTrue(err <= bound, name + ": element " + i + " = " + g[i] + " decodes to " + y + ", error " + err
                    + " > " + bound + " (step " + step + ", stored scale " + scales[0] + ")");
        }
    }

    static Stream<Arguments> symmetricCases() {
        List<Arguments> out = new ArrayList<>();
        groups().forEach(a -> {
            for (int bits : new int[] {4, 8}) {
                out.add(Arguments.of(a.get()[0], bits, a.get()[1]));
            }
        });
        return out.stream();
    }

    /** A group spanning more than fp32's range has no step to decode with: refused, naming the group. */
    @Test
    void aGroupWiderThanTheFloatRangeIsRefused() {
        float[] x = new float[2 * GROUP];
        x[GROUP] = -3e38f;
        x[GROUP + 1] = 3e38f;
        for (int bits : new int[] {4, 8}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new GroupQuantizer(bits).quantize(x, 0, x.length, Rounding.NEAREST, null));
            assertTrue(e.getMessage().contains("group 1") && e.getMessage().contains("-3.0E38"), e.getMessage());
        }
    }
}
