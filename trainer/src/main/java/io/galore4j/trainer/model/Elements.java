package io.galore4j.trainer.model;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Direct element access to a dense, row-major ({@code 'c'}) FLOAT or DOUBLE array, for the
 * elementwise parts of the model (RMSNorm, RoPE, softmax, SwiGLU, cross-entropy), which run as
 * plain Java loops over the NIO view of the buffer: faster than chains of ND4J ops and free of
 * temporaries (DESIGN.md §5). Values pass through {@code double}; the FLOAT variant rounds on
 * {@link #set}. Index {@code i} is the logical row-major index (the view offset is applied here).
 */
abstract class Elements {

    /** The accessor of {@code array}, which must be row-major and contiguous. */
    static Elements of(INDArray array) {
        if (!contiguous(array)) {
            throw new IllegalArgumentException("expected a contiguous row-major array, got shape "
                    + java.util.Arrays.toString(array.shape()) + " order " + array.ordering());
        }
        int offset = Math.toIntExact(array.offset());
        DataType type = array.dataType();
        if (type == DataType.FLOAT) {
            return new Float32(array.data().asNioFloat(), offset);
        }
        if (type == DataType.DOUBLE) {
            return new Float64(array.data().asNioDouble(), offset);
        }
        throw new IllegalArgumentException("the model computes in FLOAT or DOUBLE, got " + type);
    }

    private static boolean contiguous(INDArray array) {
        if (array.ordering() != 'c' && array.rank() > 1) {
            return false;
        }
        long expected = 1;
        long[] shape = array.shape();
        long[] stride = array.stride();
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] != 1 && stride[d] != expected) {
                return false;
            }
            expected *= shape[d];
        }
        return true;
    }

    abstract double get(int i);

    abstract void set(int i, double value);

    /** Adds {@code value} to element {@code i}. */
    final void add(int i, double value) {
        set(i, get(i) + value);
    }

    private static final class Float32 extends Elements {
        private final FloatBuffer buffer;
        private final int offset;

        Float32(FloatBuffer buffer, int offset) {
            this.buffer = buffer;
            this.offset = offset;
        }

        @Override
        double get(int i) {
            return buffer.get(offset + i);
        }

        @Override
        void set(int i, double value) {
            buffer.put(offset + i, (float) value);
        }
    }

    private static final class Float64 extends Elements {
        private final DoubleBuffer buffer;
        private final int offset;

        Float64(DoubleBuffer buffer, int offset) {
            this.buffer = buffer;
            this.offset = offset;
        }

        @Override
        double get(int i) {
            return buffer.get(offset + i);
        }

        @Override
        void set(int i, double value) {
            buffer.put(offset + i, value);
        }
    }
}
