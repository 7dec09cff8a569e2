package io.galore4j.galore;

import io.galore4j.quant.Bf16;
import io.galore4j.quant.SplitFloat;
import java.lang.ref.Reference;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A split master weight (FlashOptim, docs/design.md §3): per element a bfloat16 high part θ' and an
 * int8 correction ρ of the error θ − θ', 3 bytes instead of fp32's 4; θ ≈ θ' + ρ/127 · ulp(θ')/2
 * ({@link SplitFloat}, which states the error bound).
 *
 * <p>The forward and backward pass read the joined values from a pooled fp32 copy (as INT8
 * weights do, {@link WeightPool}). An update joins each chunk to fp32, applies the update there
 * ({@link WeightStore#applyChunk}) and splits the result again, element by element: there are no
 * groups, so nothing is staged.
 */
final class SplitWeight extends WeightStore {
    private final String name;
    private final long[] shape;
    private final short[] high;
    private final byte[] correction;
    private final WeightPool pool;
    private long version;

    /** Splits {@code initial}; IllegalArgumentException naming the parameter for a NaN or infinite value. */
    SplitWeight(String name, INDArray initial, WeightPool pool) {
        INDArray w = Chunks.contiguous(initial);
        int n = (int) w.length();
        this.name = name;
        this.shape = w.shape();
        this.high = new short[n];
        this.correction = new byte[n];
        this.pool = pool;
        FloatBuffer src = w.data().asNioFloat();
        int off = (int) w.offset();
        float[] c = new float[Math.min(Chunks.SIZE, n)];
        for (int s = 0; s < n; s += c.length) {
            int len = Math.min(c.length, n - s);
            src.get(off + s, c, 0, len);
            split(c, s, len);
        }
        Reference.reachabilityFence(w); // a contiguous copy is read through an NIO view, which does not keep it alive
        pool.reserve(shape);
    }

    @Override
    INDArray value() {
        return pool.view(name, version, shape, dst -> join(high, correction, dst.data().asNioFloat(), (int) dst.offset()));
    }

    /** θ̂ = θ' + ρ/127 · ulp/2 of every element, into {@code out} from {@code off}. */
    private static void join(short[] high, byte[] correction, FloatBuffer out, int off) {
        float[] c = new float[Math.min(Chunks.SIZE, high.length)];
        for (int s = 0; s < high.length; s += c.length) {
            int len = Math.min(c.length, high.length - s);
            SplitFloat.join(high, correction, s, len, c, 0);
            out.put(off + s, c, 0, len);
        }
    }

    /** θ̂ = θ' + ρ/127 · ulp/2 of elements [start, start + n). */
    @Override
    void read(int start, int n, float[] dst) {
        SplitFloat.join(high, correction, start, n, dst, 0);
    }

    /** Splits the new values at once (elementwise: no staging in {@code work}). */
    @Override
    void write(int start, int n, float[] src, FloatBuffer work, int workOff) {
        split(src, start, n);
    }

    @Override
    void finishUpdate(FloatBuffer work, int workOff) {
        version++; // the pooled fp32 copy is stale
    }

    private void split(float[] src, int start, int n) {
        try {
            SplitFloat.split(src, 0, high, correction, start, n);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("parameter " + name + ": " + e.getMessage(), e);
        }
    }

    @Override
    Map<String, Buffer> parts() {
        Map<String, Buffer> p = new LinkedHashMap<>();
        p.put("high", ShortBuffer.wrap(high).asReadOnlyBuffer());
        p.put("correction", ByteBuffer.wrap(correction).asReadOnlyBuffer());
        return p;
    }

    /** Restores {@link #parts()}; refuses a high part that is not a finite bfloat16 or a correction of −128. */
    @Override
    void load(Map<String, Buffer> saved) {
        short[] hs = new short[length()];
        byte[] cs = new byte[length()];
        read(saved::get, hs, cs);
        System.arraycopy(hs, 0, high, 0, hs.length);
        System.arraycopy(cs, 0, correction, 0, cs.length);
        version++; // any pooled fp32 copy is stale
    }

    /**
     * Decodes the {@code length} elements saved as {@link #parts()} into {@code dst} from
     * {@code dstOff}, joined as {@link #value()} joins them.
     */
    static void decode(Function<String, Buffer> saved, int length, FloatBuffer dst, int dstOff) {
        short[] hs = new short[length];
        byte[] cs = new byte[length];
        read(saved, hs, cs);
        join(hs, cs, dst, dstOff);
    }

    /** Reads the saved parts into {@code hs} and {@code cs}, checking every value. */
    private static void read(Function<String, Buffer> saved, short[] hs, byte[] cs) {
        int length = hs.length;
        if (!(saved.apply("high") instanceof ShortBuffer h) || h.remaining() != length
                || !(saved.apply("correction") instanceof ByteBuffer c) || c.remaining() != length) {
            throw new IllegalArgumentException("weight: expected " + length + " bf16 high parts and "
                    + length + " int8 corrections");
        }
        h.duplicate().get(hs);
        c.duplicate().get(cs);
        for (int i = 0; i < hs.length; i++) {
            if (!Bf16.isFinite(hs[i])) {
                throw new IllegalArgumentException("weight: high part " + i + " is not a finite bfloat16 (bits 0x"
                        + Integer.toHexString(hs[i] & 0xFFFF) + ")");
            }
            if (cs[i] < -SplitFloat.STEPS) {
                throw new IllegalArgumentException("weight: correction " + i + " is " + cs[i] + ", outside [-127, 127]");
            }
        }
    }

    @Override
    String kind() {
        return "split";
    }

    /** 2 bytes of bf16 high part plus 1 byte of int8 correction per element. */
    @Override
    long valueBytes() {
        return 2L * high.length + correction.length;
    }

    @Override
    long scaleBytes() {
        return 0;
    }

    @Override
    int length() {
        return high.length;
    }

    /** Exact bytes of a split weight of n elements (the arrays this class allocates). */
    static long bytes(long n) {
        return SplitFloat.BYTES * n;
    }
}
