package io.galore4j.galore;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The chunk size of the optimizer's elementwise loops (docs/design.md §5: tight Java loops over
 * {@code data().asNioFloat()} beat chained ND4J ops), a multiple of every codec's block size
 * (256, 128, 32) and of the INT8 weight group (256).
 */
final class Chunks {
    static final int SIZE = 4096;

    private Chunks() {
    }

    /** {@code a} itself if it is a contiguous c-order fp32 array, else a contiguous copy. */
    static INDArray contiguous(INDArray a) {
        if (a.dataType() != DataType.FLOAT) {
            throw new IllegalArgumentException("expected an fp32 array, got " + a.dataType());
        }
        if (a.ordering() == 'c' && !a.isView() && a.length() == a.data().length() - a.offset()) {
            return a;
        }
        return a.dup('c');
    }

    /**
     * The largest |x| of {@code x[0 .. len)}: NaN if one of them is NaN (Math.max propagates it),
     * +∞ if one is infinite, so {@code maxAbs(x, len) <= Float.MAX_VALUE} says all are finite.
     * One pass that C2 vectorizes.
     */
    static float maxAbs(float[] x, int len) {
        float m = 0f;
        for (int i = 0; i < len; i++) {
            m = Math.max(m, Math.abs(x[i]));
        }
        return m;
    }

    /** The index of the first NaN or infinite value of {@code x[0 .. len)}, or −1. */
    static int firstNonFinite(float[] x, int len) {
        for (int i = 0; i < len; i++) {
            if (!Float.isFinite(x[i])) {
                return i;
            }
        }
        return -1;
    }

    /** Throws if the array is not fp32, not c-contiguous, or its shape differs. */
    static void checkGradient(String name, INDArray g, long[] shape) {
        if (g.dataType() != DataType.FLOAT) {
            throw new IllegalArgumentException("gradient of " + name + ": expected FLOAT, got " + g.dataType());
        }
        if (!java.util.Arrays.equals(g.shape(), shape)) {
            throw new IllegalArgumentException("gradient of " + name + ": shape " + java.util.Arrays.toString(g.shape())
                    + " differs from the parameter's " + java.util.Arrays.toString(shape));
        }
        if (g.ordering() != 'c' || g.elementWiseStride() != 1) {
            throw new IllegalArgumentException("gradient of " + name + ": must be a contiguous c-order array");
        }
    }
}
