package io.galore4j.trainer;

import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Σ g² of a gradient for the global norm used by clipping. A Java loop over the contiguous fp32
 * buffer with a double accumulator (ND4J's norm2 reduction was a measurable part of a micro-model
 * step and rounds in fp32); other layouts fall back to ND4J.
 */
final class GradientNorms {

    private static final ThreadLocal<float[]> STAGING = ThreadLocal.withInitial(() -> new float[1 << 14]);

    private GradientNorms() {
    }

    static double sumOfSquares(INDArray grad) {
        if (grad.dataType() != DataType.FLOAT || !denseRowMajor(grad)) {
            double n = grad.norm2Number().doubleValue();
            return n * n;
        }
        FloatBuffer data = grad.data().asNioFloat();
        int offset = Math.toIntExact(grad.offset());
        int length = Math.toIntExact(grad.length());
        float[] stage = STAGING.get();
        double s0 = 0;
        double s1 = 0;
        for (int done = 0; done < length; done += stage.length) {
            int n = Math.min(stage.length, length - done);
            data.get(offset + done, stage, 0, n);
            int i = 0;
            for (; i + 1 < n; i += 2) {
                double a = stage[i];
                double b = stage[i + 1];
                s0 += a * a;
                s1 += b * b;
            }
            if (i < n) {
                s0 += (double) stage[i] * stage[i];
            }
        }
        return s0 + s1;
    }

    private static boolean denseRowMajor(INDArray a) {
        long expected = 1;
        long[] shape = a.shape();
        long[] stride = a.stride();
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] != 1 && stride[d] != expected) {
                return false;
            }
            expected *= shape[d];
        }
        return true;
    }
}
