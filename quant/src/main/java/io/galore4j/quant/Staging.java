package io.galore4j.quant;

import java.lang.reflect.Array;
import java.nio.FloatBuffer;
import java.util.function.IntFunction;

/**
 * The one boundary between tensors in native memory and the Java loops that compute on them
 * (docs/design.md §5: tight loops over Java arrays beat per-element NIO access and chains of
 * ND4J ops). A kernel copies a contiguous run of a tensor's {@link FloatBuffer} (absolute index,
 * the buffer's position untouched) into a Java array, computes there at offset 0, where C2
 * vectorizes, and copies the result back.
 *
 * <p>The arrays come from one scratch policy: a kernel declares each array it needs once, as a
 * {@code static final} {@link Slot} ({@link #floats}, {@link #doubles}, {@link #ints}), and {@code get(n)}
 * returns this thread's array of that slot, at least n long. Contents are undefined on entry; an
 * array grows to the largest request and is kept for the thread's life. Every declared slot is
 * its own array, so a kernel may hold its arrays while it calls another kernel that takes its
 * own, and threads running chunks of one tensor in parallel never share one.
 */
public final class Staging {
    private static final Slot<float[]> WIDEN = floats();

    private Staging() {
    }

    /** A per-thread array slot ({@code float[]}, {@code double[]} or {@code int[]}). */
    public static final class Slot<A> {
        private final ThreadLocal<A> arrays = new ThreadLocal<>();
        private final IntFunction<A> create;

        private Slot(IntFunction<A> create) {
            this.create = create;
        }

        /** This thread's array of this slot, at least {@code length} long; contents undefined. */
        public A get(int length) {
            A x = arrays.get();
            if (x == null || Array.getLength(x) < length) {
                x = create.apply(length);
                arrays.set(x);
            }
            return x;
        }
    }

    /** A new {@code float[]} slot: declare it once, as a {@code static final} field. */
    public static Slot<float[]> floats() {
        return new Slot<>(float[]::new);
    }

    /** A new {@code double[]} slot. */
    public static Slot<double[]> doubles() {
        return new Slot<>(double[]::new);
    }

    /** A new {@code int[]} slot. */
    public static Slot<int[]> ints() {
        return new Slot<>(int[]::new);
    }

    /** Elements per pass of {@link #widen} and {@link #narrow}: 64 KiB of floats, which stay in cache. */
    public static final int RUN = 1 << 14;

    /** {@code dst[off .. off + len)} = the fp32 values at {@code src[from .. from + len)}, widened. */
    public static void widen(FloatBuffer src, int from, double[] dst, int off, int len) {
        float[] stage = WIDEN.get(RUN);
        for (int done = 0; done < len; done += RUN) {
            int n = Math.min(RUN, len - done);
            src.get(from + done, stage, 0, n);
            int o = off + done;
            for (int i = 0; i < n; i++) {
                dst[o + i] = stage[i];
            }
        }
    }

    /** {@code dst[to .. to + len)} = {@code src[off .. off + len)} rounded to fp32 (to nearest). */
    public static void narrow(double[] src, int off, int len, FloatBuffer dst, int to) {
        float[] stage = WIDEN.get(RUN);
        for (int done = 0; done < len; done += RUN) {
            int n = Math.min(RUN, len - done);
            int o = off + done;
            for (int i = 0; i < n; i++) {
                stage[i] = (float) src[o + i];
            }
            dst.put(to + done, stage, 0, n);
        }
    }
}
