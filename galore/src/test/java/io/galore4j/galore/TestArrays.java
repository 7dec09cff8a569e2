package io.galore4j.galore;

import java.util.Random;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Seeded test arrays and double-precision helpers. */
final class TestArrays {
    private TestArrays() {
    }

    static float[] gaussian(Random rnd, int n, double sigma) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextGaussian() * sigma);
        }
        return a;
    }

    static INDArray matrix(float[] values, long rows, long cols) {
        return Nd4j.create(values.clone(), new long[] {rows, cols}, 'c');
    }

    static float[] values(INDArray a) {
        return a.dup('c').data().asFloat();
    }

    static double relativeError(float[] actual, double[] expected) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = actual[i] - expected[i];
            num += d * d;
            den += expected[i] * expected[i];
        }
        return Math.sqrt(num / den);
    }

    static double relativeError(float[] actual, float[] expected) {
        double[] e = new double[expected.length];
        for (int i = 0; i < e.length; i++) {
            e[i] = expected[i];
        }
        return relativeError(actual, e);
    }
}
