package io.galore4j.trainer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ExpTest {

    /** The largest |Exp − Math.exp| / Math.exp over {@code x} with a = 1, b = 0. */
    private static double maxRelativeError(double[] x) {
        double[] y = x.clone();
        Exp.affine(y, 0, y.length, 1.0, 0.0);
        double worst = 0;
        for (int i = 0; i < x.length; i++) {
            double want = Math.exp(x[i]);
            worst = Math.max(worst, Math.abs(y[i] - want) / want);
        }
        return worst;
    }

    @Test
    void matchesMathExpToAFewUlpsOverTheWholeRange() {
        SplittableRandom random = new SplittableRandom(7);
        double[] wide = new double[100_000];
        double[] unit = new double[100_000];
        double[] edges = new double[100_000];
        for (int i = 0; i < wide.length; i++) {
            wide[i] = -708 + 1417 * random.nextDouble();
            unit[i] = -1 + 2 * random.nextDouble();
            // arguments near (k + ½) ln 2, where the reduced argument is largest
            int k = random.nextInt(-1000, 1000);
            edges[i] = (k + 0.5) * Math.log(2) + 1e-12 * (random.nextDouble() - 0.5);
        }
        double wideError = maxRelativeError(wide);
        double unitError = maxRelativeError(unit);
        double edgeError = maxRelativeError(edges);
        assertTrue(wideError <= 4e-15, "relative error over [-708, 709]: " + wideError);
        assertTrue(unitError <= 4e-15, "relative error over [-1, 1]: " + unitError);
        assertTrue(edgeError <= 4e-15, "relative error near (k + 1/2) ln 2: " + edgeError);
    }

    @Test
    void appliesTheAffineMapOnlyToTheGivenRun() {
        SplittableRandom random = new SplittableRandom(11);
        // longer than one internal block and not a multiple of it, at an offset
        int off = 37;
        int len = 5000;
        double[] x = new double[off + len + 13];
        for (int i = 0; i < x.length; i++) {
            x[i] = -3 + 6 * random.nextDouble();
        }
        double[] before = x.clone();
        double a = -0.125;
        double b = 1.75;
        Exp.affine(x, off, len, a, b);
        for (int i = 0; i < x.length; i++) {
            if (i < off || i >= off + len) {
                assertEquals(before[i], x[i], 0.0, "element outside the run changed at " + i);
            } else {
                double want = Math.exp(a * before[i] + b);
                assertEquals(want, x[i], 1e-14 * want, "at " + i);
            }
        }
    }

    @Test
    void writesFromOneArrayIntoAnother() {
        SplittableRandom random = new SplittableRandom(13);
        double[] src = new double[3000];
        for (int i = 0; i < src.length; i++) {
            src[i] = -10 + 20 * random.nextDouble();
        }
        double[] before = src.clone();
        double[] dst = new double[src.length + 8];
        Exp.affine(src, 0, dst, 5, src.length, 1.0, 0.0);
        assertEquals(0.0, dst[4], 0.0, "element before the destination run changed");
        for (int i = 0; i < src.length; i++) {
            assertEquals(before[i], src[i], 0.0, "the source changed at " + i);
            assertEquals(Math.exp(src[i]), dst[5 + i], 4e-15 * Math.exp(src[i]), "at " + i);
        }
    }

    @Test
    void clampsTheTailsAndKeepsNaN() {
        double[] x = {-800, -708.5, Double.NEGATIVE_INFINITY, 710, Double.POSITIVE_INFINITY, Double.NaN, 0};
        Exp.affine(x, 0, x.length, 1.0, 0.0);
        for (int i = 0; i < 3; i++) {
            assertTrue(x[i] >= 0 && x[i] <= Math.exp(-708) * (1 + 1e-14), "underflowing argument gave " + x[i]);
        }
        assertEquals(Math.exp(709), x[3], 1e-14 * Math.exp(709));
        assertEquals(Math.exp(709), x[4], 1e-14 * Math.exp(709));
        assertTrue(Double.isNaN(x[5]), "NaN gave " + x[5]);
        assertEquals(1.0, x[6], 0.0);
    }
}
