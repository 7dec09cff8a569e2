package io.galore4j.trainer.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Σ g² of a gradient for the global norm used by clipping: a Java loop over chunks of the
 * contiguous buffer with double accumulators (docs/design.md §5: Java loops over the buffer; ND4J's
 * norm2 reduction rounds in fp32). Other layouts fall back to ND4J.
 */
public final class GradientNorms {

    private GradientNorms() {
    }

    public static double sumOfSquares(INDArray grad) {
        DataType type = grad.dataType();
        if (type != DataType.FLOAT && type != DataType.DOUBLE || !Elements.contiguous(grad)) {
            double n = grad.norm2Number().doubleValue();
            return n * n;
        }
        Elements e = Elements.of(grad);
        int length = Math.toIntExact(grad.length());
        double[] chunk = Elements.buffer(0, Elements.CHUNK);
        double s0 = 0;
        double s1 = 0;
        for (int from = 0; from < length; from += Elements.CHUNK) {
            int n = Math.min(Elements.CHUNK, length - from);
            e.read(from, n, chunk, 0);
            int i = 0;
            for (; i + 1 < n; i += 2) {
                s0 += chunk[i] * chunk[i];
                s1 += chunk[i + 1] * chunk[i + 1];
            }
            if (i < n) {
                s0 += chunk[i] * chunk[i];
            }
        }
        return s0 + s1;
    }
}
