package io.galore4j.quant;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one boundary between tensors in native memory and the Java loops that compute on them
 * (docs/design.md §5: tight loops over Java arrays beat per-element NIO access and chains of
 * ND4J ops). A kernel copies a contiguous run of a tensor's {@link FloatBuffer} (absolute index,
 * the buffer's position untouched) into a Java array, computes there at offset 0, where C2
 * vectorizes, and copies the result back.
 *
 * <p>The arrays come from one scratch policy: a kernel declares each array it needs once, as a
 * {@code static final} {@link Floats}, {@link Doubles} or {@link Ints} slot, and {@code get(n)}
 * returns this thread's array of that slot, at least n long. Contents are undefined on entry; an
 * array grows to the largest request and is kept for the thread's life. Every declared slot is
 * its own array, so a kernel may hold its arrays while it calls another kernel that takes its
 * own, and threads running chunks of one tensor in parallel never share one.
 */
public final class Staging {
    private static final AtomicInteger SLOTS = new AtomicInteger();
    private static final ThreadLocal<Object[]> ARRAYS = ThreadLocal.withInitial(() -> new Object[SLOTS.get()]);
    private static final Floats WIDEN = new Floats();

    private Staging() {
    }

    /** This thread's arrays, one per slot declared so far. */
    private static Object[] arrays(int slot) {
        Object[] a = ARRAYS.get();
        if (slot >= a.length) {
            a = Arrays.copyOf(a, SLOTS.get());
            ARRAYS.set(a);
        }
        return a;
    }

    /** A per-thread {@code float[]} slot. */
    public static final class Floats {
        private final int slot = SLOTS.getAndIncrement();

        /** This thread's array of this slot, at least {@code length} long; contents undefined. */
        public float[] get(int length) {
            Object[] a = arrays(slot);
            float[] x = (float[]) a[slot];
            if (x == null || x.length < length) {
                x = new float[length];
                a[slot] = x;
            }
            return x;
        }
    }

    /** A per-thread {@code double[]} slot. */
    public static final class Doubles {
        private final int slot = SLOTS.getAndIncrement();

        /** This thread's array of this slot, at least {@code length} long; contents undefined. */
        public double[] get(int length) {
            Object[] a = arrays(slot);
            double[] x = (double[]) a[slot];
            if (x == null || x.length < length) {
                x = new double[length];
                a[slot] = x;
            }
            return x;
        }
    }

    /** A per-thread {@code int[]} slot. */
    public static final class Ints {
        private final int slot = SLOTS.getAndIncrement();

        /** This thread's array of this slot, at least {@code length} long; contents undefined. */
        public int[] get(int length) {
            Object[] a = arrays(slot);
            int[] x = (int[]) a[slot];
            if (x == null || x.length < length) {
                x = new int[length];
                a[slot] = x;
            }
            return x;
        }
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
