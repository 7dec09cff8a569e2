package io.galore4j.quant.bench;

import io.galore4j.quant.EncodedState;
import io.galore4j.quant.GroupQuantizer;
import io.galore4j.quant.Moment;
import io.galore4j.quant.QuantizedTensor;
import io.galore4j.quant.Rounding;
import io.galore4j.quant.RoundingRng;
import io.galore4j.quant.StateCodec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Encode and decode throughput of every codec on 16M floats, against a plain copy of the same
 * array in the same run ({@link Copy}): report time(copy) / time(codec) as the ratio.
 * Run: {@code bin/galore jmh quant -f 1 -wi 2 -i 3 -r 2 -w 1}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"-Xmx3g"})
public class CodecBenchmark {
    static final int N = 1 << 24;

    /** int8/int4 = GroupQuantizer (nearest; "-sr" stochastic; "-buf" through a direct FloatBuffer); others name/moment. */
    @Param({"int8", "int8-sr", "int8-buf", "int4", "int4-sr",
            "dynamic8/FIRST", "dynamic8/SECOND", "de4/FIRST", "linear4nz/SECOND", "linear4nz-rank1/SECOND",
            "signed2/FIRST", "signed3/FIRST", "log2/SECOND", "log3/SECOND", "softsign8/FIRST", "sqrt8/SECOND"})
    public String codec;

    float[] src;
    float[] dst;
    FloatBuffer srcBuf;
    FloatBuffer dstBuf;
    GroupQuantizer quantizer;
    Rounding rounding;
    QuantizedTensor tensor;
    StateCodec stateCodec;
    EncodedState state;
    RoundingRng rng;

    static float[] sample(boolean positive) {
        Random r = new Random(1);
        float[] x = new float[N];
        for (int i = 0; i < N; i++) {
            float g = (float) (r.nextGaussian() * 1e-3);
            x[i] = positive ? g * g : g;
        }
        return x;
    }

    @Setup
    public void setup() {
        rng = new RoundingRng(1);
        dst = new float[N];
        if (codec.startsWith("int")) {
            src = sample(false);
            quantizer = new GroupQuantizer(codec.startsWith("int8") ? 8 : 4);
            rounding = codec.endsWith("-sr") ? Rounding.STOCHASTIC : Rounding.NEAREST;
            tensor = quantizer.quantize(src, 0, N, rounding, rng);
            if (codec.endsWith("-buf")) {
                srcBuf = ByteBuffer.allocateDirect(4 * N).order(ByteOrder.nativeOrder()).asFloatBuffer();
                srcBuf.put(0, src, 0, N);
                dstBuf = ByteBuffer.allocateDirect(4 * N).order(ByteOrder.nativeOrder()).asFloatBuffer();
            }
        } else {
            String[] parts = codec.split("/");
            Moment moment = Moment.valueOf(parts[1]);
            src = sample(moment == Moment.SECOND);
            stateCodec = StateCodec.of(parts[0], moment);
            state = stateCodec.allocate(4096, N / 4096);
            stateCodec.encode(src, 0, state, rng);
        }
    }

    @Benchmark
    public Object encode() {
        if (stateCodec != null) {
            stateCodec.encode(src, 0, state, rng);
            return state;
        }
        if (srcBuf != null) {
            quantizer.requantize(tensor, srcBuf, 0, rounding, rng);
        } else {
            quantizer.requantize(tensor, src, 0, rounding, rng);
        }
        return tensor;
    }

    @Benchmark
    public Object decode() {
        if (stateCodec != null) {
            stateCodec.decode(state, dst, 0);
            return dst;
        }
        if (dstBuf != null) {
            quantizer.dequantize(tensor, dstBuf, 0);
            return dstBuf;
        }
        quantizer.dequantize(tensor, dst, 0);
        return dst;
    }

    /** Baseline: copy the same 16M floats (array and direct FloatBuffer). */
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @State(Scope.Benchmark)
    @Fork(value = 1, jvmArgsAppend = {"-Xmx3g"})
    public static class Copy {
        float[] src;
        float[] dst;
        FloatBuffer srcBuf;
        FloatBuffer dstBuf;

        @Setup
        public void setup() {
            src = sample(false);
            dst = new float[N];
            srcBuf = ByteBuffer.allocateDirect(4 * N).order(ByteOrder.nativeOrder()).asFloatBuffer();
            srcBuf.put(0, src, 0, N);
            dstBuf = ByteBuffer.allocateDirect(4 * N).order(ByteOrder.nativeOrder()).asFloatBuffer();
        }

        @Benchmark
        public Object arrayCopy() {
            System.arraycopy(src, 0, dst, 0, N);
            return dst;
        }

        @Benchmark
        public Object bufferCopy() {
            dstBuf.put(0, srcBuf, 0, N);
            return dstBuf;
        }
    }
}
