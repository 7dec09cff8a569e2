package io.galore4j.trainer.model;

import io.galore4j.quant.Staging;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Bulk access to a dense, row-major ({@code 'c'}) FLOAT or DOUBLE array for the elementwise parts
 * of the model (RMSNorm, RoPE, softmax, SwiGLU, cross-entropy, embedding), which run as plain Java
 * loops: a kernel copies a run of elements into a {@code double[]} chunk, computes on the chunk
 * and copies the results back. Loops over Java arrays compile to tight (partly vectorized) code;
 * per-element access through the NIO buffer did not, and chains of ND4J ops allocate temporaries
 * (docs/design.md §5). FLOAT arrays are widened and rounded on {@link #write} by {@link Staging}.
 * Index {@code from} is the logical row-major index (the view offset is applied here).
 */
abstract class Elements {

    /** Elements a kernel stages at a time: 128 KiB of doubles, small enough to stay in cache. */
    static final int CHUNK = 1 << 14;

    /** The kernels' scratch arrays ({@link Staging}). */
    private static final java.util.List<Staging.Slot<double[]>> BUFFERS = java.util.List.of(Staging.doubles(),
            Staging.doubles(), Staging.doubles(), Staging.doubles(), Staging.doubles(), Staging.doubles());

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

    /**
     * This thread's scratch array number {@code slot} (0 … 5), at least {@code length} long.
     * A kernel uses each slot for one purpose at a time; contents are undefined on entry.
     */
    static double[] buffer(int slot, int length) {
        return BUFFERS.get(slot).get(Math.max(length, CHUNK));
    }

    /** Rows of {@code cols} elements that fit in one chunk (at least one). */
    static int rowsPerChunk(int cols) {
        return Math.max(1, CHUNK / Math.max(1, cols));
    }

    /** The largest of x[from .. from + n), NaN if one is NaN. */
    static double max(double[] x, int from, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            max = Math.max(max, x[from + j]);
        }
        return max;
    }

    /**
     * Σ x[from .. from + n), in four running sums: a single sum is one chain of dependent adds,
     * which the CPU cannot overlap (docs/design.md §5).
     */
    static double sum(double[] x, int from, int n) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int j = 0;
        for (; j + 4 <= n; j += 4) {
            s0 += x[from + j];
            s1 += x[from + j + 1];
            s2 += x[from + j + 2];
            s3 += x[from + j + 3];
        }
        for (; j < n; j++) {
            s0 += x[from + j];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** Whether {@code array} is dense and row-major (what {@link #of} accepts). */
    static boolean contiguous(INDArray array) {
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

    /** dst[off .. off + len) = elements [from, from + len). */
    abstract void read(int from, int len, double[] dst, int off);

    /** Elements [to, to + len) = src[off .. off + len). */
    abstract void write(double[] src, int off, int len, int to);

    private static final class Float32 extends Elements {
        private final FloatBuffer buffer;
        private final int offset;

        Float32(FloatBuffer buffer, int offset) {
            this.buffer = buffer;
            this.offset = offset;
        }

        @Override
        void read(int from, int len, double[] dst, int off) {
            Staging.widen(buffer, offset + from, dst, off, len);
        }

        @Override
        void write(double[] src, int off, int len, int to) {
            Staging.narrow(src, off, len, buffer, offset + to);
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
        void read(int from, int len, double[] dst, int off) {
            buffer.get(offset + from, dst, off, len);
        }

        @Override
        void write(double[] src, int off, int len, int to) {
            buffer.put(offset + to, src, off, len);
        }
    }
}
