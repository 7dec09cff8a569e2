package io.galore4j.trainer.io;

import java.util.Arrays;

/**
 * One tensor's header entry in a safetensors file: its element type, its shape (row-major) and
 * the byte range {@code [begin, end)} of its data, relative to the start of the byte buffer.
 */
public record TensorInfo(String name, Dtype dtype, long[] shape, long begin, long end) {

    public TensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** The number of elements, the product of the shape (1 for a scalar). */
    public long elements() {
        return elements(shape);
    }

    static long elements(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype
                && Arrays.equals(shape, t.shape) && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + " [" + begin + ", " + end + ")";
    }
}
