package io.galore4j.galore;

import io.galore4j.quant.GroupQuantizer;
import io.galore4j.quant.QuantizedTensor;
import io.galore4j.quant.Rounding;
import io.galore4j.quant.RoundingRng;
import java.lang.ref.Reference;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * An INT8 weight, groups of 256, asymmetric min–max (Q-GaLore, docs/design.md §3). The initial value is
 * quantized with round-to-nearest; after every update the new value is requantized with
 * stochastic rounding (q = ⌊x/s⌋ + 1 with probability frac(x/s)), so E[Ŵ] = W and updates
 * smaller than one step still move the weight on average. The rounding mode is a constructor
 * argument so a test can show the difference.
 *
 * <p>An update runs dequantize → subtract → requantize: each chunk is decoded from the codes
 * (x̂ = zeroPoint + code·scale, quant's documented format), the new value is written into the
 * caller's gradient buffer, and the whole tensor is requantized from there at the end.
 */
final class Int8Weight extends WeightStore {
    static final GroupQuantizer INT8 = new GroupQuantizer(8, GroupQuantizer.DEFAULT_GROUP_SIZE);

    private final String name;
    private final long[] shape;
    private final QuantizedTensor q;
    private final WeightPool pool;
    private final Rounding rounding;
    private final RoundingRng rng;
    private long version;

    Int8Weight(String name, INDArray initial, WeightPool pool, Rounding rounding, RoundingRng rng) {
        INDArray w = Chunks.contiguous(initial);
        this.name = name;
        this.shape = w.shape();
        this.q = INT8.quantize(w.data().asNioFloat(), (int) w.offset(), (int) w.length(), Rounding.NEAREST, null);
        Reference.reachabilityFence(w); // a contiguous copy is read through an NIO view, which does not keep it alive
        this.pool = pool;
        this.rounding = rounding;
        this.rng = rng;
        pool.reserve(shape);
    }

    @Override
    INDArray value() {
        return pool.view(name, version, shape, dst -> INT8.dequantize(q, dst.data().asNioFloat(), (int) dst.offset()));
    }

    /** Decodes elements [start, start + n) (start a multiple of the group size). */
    @Override
    void read(int start, int n, float[] dst) {
        INT8.dequantizeRange(q, start, n, dst, 0);
    }

    /** The new value goes to the caller's gradient buffer; {@link #finishUpdate} requantizes from there. */
    @Override
    void write(int start, int n, float[] src, FloatBuffer work, int workOff) {
        work.put(workOff + start, src, 0, n);
    }

    @Override
    void finishUpdate(FloatBuffer work, int workOff) {
        INT8.requantize(q, work, workOff, rounding, rng);
        version++;
    }


    @Override
    Map<String, Buffer> parts() {
        Map<String, Buffer> p = new LinkedHashMap<>();
        p.put("codes", q.codes());
        p.put("scales", q.scales());
        p.put("zero_points", q.zeroPoints());
        return p;
    }

    @Override
    void load(Map<String, Buffer> saved) {
        load(q, saved::get);
        version++; // any pooled fp32 copy is stale
    }

    /**
     * Decodes the {@code length} elements saved as {@link #parts()} into {@code dst} from
     * {@code dstOff}, with the same dequantization as {@link #value()}.
     */
    static void decode(Function<String, Buffer> saved, int length, FloatBuffer dst, int dstOff) {
        QuantizedTensor stored = INT8.allocate(length);
        load(stored, saved);
        INT8.dequantize(stored, dst, dstOff);
    }

    private static void load(QuantizedTensor into, Function<String, Buffer> saved) {
        if (!(saved.apply("codes") instanceof ByteBuffer c) || !(saved.apply("scales") instanceof FloatBuffer s)
                || !(saved.apply("zero_points") instanceof FloatBuffer z)) {
            throw new IllegalArgumentException("weight: expected INT8 codes, scales and zero_points");
        }
        into.load(c, s, z);
    }

    @Override
    String kind() {
        return "int8";
    }

    @Override
    long valueBytes() {
        return q.length();
    }

    @Override
    long scaleBytes() {
        return q.bytes() - q.length();
    }

    @Override
    int length() {
        return q.length();
    }

    QuantizedTensor codes() {
        return q;
    }

    /** Exact bytes of an INT8 weight of n elements: codes, then scales and zero points. */
    static long[] bytes(long n) {
        return new long[] {n, QuantizedTensor.bytes(8, GroupQuantizer.DEFAULT_GROUP_SIZE, n) - n};
    }
}
