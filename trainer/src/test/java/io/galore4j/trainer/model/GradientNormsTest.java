package io.galore4j.trainer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

class GradientNormsTest {

    private static INDArray random(long seed, int rows, int cols) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * 1e-2);
        }
        return Nd4j.create(v, new long[] {rows, cols}, DataType.FLOAT);
    }

    private static double reference(INDArray a) {
        double s = 0;
        for (int i = 0; i < a.rows(); i++) {
            for (int j = 0; j < a.columns(); j++) {
                double v = a.getDouble(i, j);
                s += v * v;
            }
        }
        return s;
    }

    @Test
    void denseArrayOfOddLengthAcrossSeveralStagingChunks() {
        INDArray g = random(1, 173, 211); // 36,503 elements: three chunks, odd tail
        assertEquals(reference(g), GradientNorms.sumOfSquares(g), 1e-12 * reference(g));
    }

    @Test
    void contiguousRowBlockViewUsesItsOwnElementsOnly() {
        INDArray g = random(2, 96, 64);
        INDArray rows = g.get(NDArrayIndex.interval(32, 64), NDArrayIndex.all());
        assertEquals(reference(rows), GradientNorms.sumOfSquares(rows), 1e-12 * reference(rows));
    }

    @Test
    void stridedViewFallsBackAndAgrees() {
        INDArray g = random(3, 64, 96);
        INDArray cols = g.get(NDArrayIndex.all(), NDArrayIndex.interval(10, 50));
        assertEquals(reference(cols), GradientNorms.sumOfSquares(cols), 1e-6 * reference(cols));
    }
}
