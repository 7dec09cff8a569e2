package io.galore4j.trainer.model;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A bias-free linear layer y = x Wᵀ with W in the [out, in] convention, over 2-D row blocks
 * x of shape [B·T, in]: each of its three products is one GEMM into a preallocated output.
 */
final class Linear {

    private Linear() {
    }

    /** y = x Wᵀ, or y += x Wᵀ when {@code accumulate}. */
    static void forward(INDArray x, INDArray w, INDArray y, boolean accumulate) {
        Nd4j.gemm(x, w, y, false, true, 1.0, accumulate ? 1.0 : 0.0);
    }

    /** dx = dy W, or dx += dy W when {@code accumulate}. */
    static void inputGradient(INDArray dy, INDArray w, INDArray dx, boolean accumulate) {
        Nd4j.gemm(dy, w, dx, false, false, 1.0, accumulate ? 1.0 : 0.0);
    }

    /** dW = dyᵀ x, shape [out, in]. */
    static void weightGradient(INDArray dy, INDArray x, INDArray dw) {
        Nd4j.gemm(dy, x, dw, true, false, 1.0, 0.0);
    }
}
