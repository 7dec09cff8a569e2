package io.galore4j.trainer.model;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A bias-free linear layer y = x Wᵀ with W in the [out, in] convention, over 2-D row blocks
 * x of shape [B·T, in]: each of its three products is one GEMM into a preallocated output, in the
 * weights' data type through ND4J's BLAS ({@link #BLAS}), or with bf16 operands and fp32
 * accumulation through oneDNN under {@code train.compute: bf16} (docs/design.md §5).
 */
final class Linear {

    /** The products in the arrays' own type (fp32, or float64 for gradient checks). */
    static final Linear BLAS = new Linear(null);

    private final Bf16Products bf16;

    Linear(Bf16Products bf16) {
        this.bf16 = bf16;
    }

    /** y = x Wᵀ, or y += x Wᵀ when {@code accumulate}. */
    void forward(INDArray x, INDArray w, INDArray y, boolean accumulate) {
        if (bf16 != null) {
            bf16.forward(x, w, y, accumulate);
            return;
        }
        Nd4j.gemm(x, w, y, false, true, 1.0, accumulate ? 1.0 : 0.0);
    }

    /**
     * The two backward products of y (+)= x Wᵀ given dy: dx = dy W (dx += dy W when
     * {@code accumulate}), then dW = dyᵀ x, shape [out, in].
     */
    void backward(INDArray dy, INDArray w, INDArray x, INDArray dx, boolean accumulate, INDArray dw) {
        if (bf16 != null) {
            bf16.backward(dy, w, x, dx, accumulate, dw);
            return;
        }
        Nd4j.gemm(dy, w, dx, false, false, 1.0, accumulate ? 1.0 : 0.0);
        Nd4j.gemm(dy, x, dw, true, false, 1.0, 0.0);
    }
}
