package io.galore4j.galore;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Scratch fp32 arrays that INT8 weights are dequantized into for the forward and backward pass:
 * {@value #PER_SHAPE} per distinct shape, reused least-recently-used first, so memory grows with
 * the number of shapes, not of parameters.
 *
 * <p>Contract of {@code weight(name)} for an INT8 parameter: the returned array holds the current
 * value until (a) {@value #PER_SHAPE} further {@code weight()} calls for OTHER parameters of the
 * same shape were made (the buffer is then reused), or (b) that parameter is updated. Calling
 * {@code weight(name)} again for a parameter whose buffer is still valid returns the same array
 * without dequantizing again.
 */
final class WeightPool {
    static final int PER_SHAPE = 2;

    private static final class Slots {
        final INDArray[] arrays = new INDArray[PER_SHAPE];
        final String[] owner = new String[PER_SHAPE];
        final long[] version = new long[PER_SHAPE];
        final long[] lastUse = new long[PER_SHAPE];
    }

    private final Map<String, Slots> byShape = new HashMap<>();
    private long clock;

    /** Allocates the slots of this shape now (so the memory account is exact from the start). */
    void reserve(long[] shape) {
        byShape.computeIfAbsent(Arrays.toString(shape), k -> {
            Slots s = new Slots();
            for (int i = 0; i < PER_SHAPE; i++) {
                s.arrays[i] = Nd4j.create(DataType.FLOAT, shape, 'c');
            }
            return s;
        });
    }

    INDArray view(String name, long version, long[] shape, Consumer<INDArray> fill) {
        Slots s = byShape.get(Arrays.toString(shape));
        clock++;
        int lru = 0;
        for (int i = 0; i < PER_SHAPE; i++) {
            if (name.equals(s.owner[i]) && s.version[i] == version) {
                s.lastUse[i] = clock;
                return s.arrays[i];
            }
            if (s.lastUse[i] < s.lastUse[lru]) {
                lru = i;
            }
        }
        for (int i = 0; i < PER_SHAPE; i++) { // a stale copy of the same parameter is reused first
            if (name.equals(s.owner[i])) {
                lru = i;
            }
        }
        fill.accept(s.arrays[lru]);
        s.owner[lru] = name;
        s.version[lru] = version;
        s.lastUse[lru] = clock;
        return s.arrays[lru];
    }

    /** Bytes held by all slots. */
    long bytes() {
        long b = 0;
        for (Slots s : byShape.values()) {
            for (INDArray a : s.arrays) {
                b += 4L * a.length();
            }
        }
        return b;
    }

    void close() {
        for (Slots s : byShape.values()) {
            for (INDArray a : s.arrays) {
                a.close();
            }
        }
        byShape.clear();
    }
}
