package io.galore4j.galore.bench;

import io.galore4j.galore.LayerwiseOptimizer;
import io.galore4j.galore.OptimSettings;
import io.galore4j.projection.Projector;
import io.galore4j.projection.ProjectorConfig;
import io.galore4j.projection.RefreshPolicy;
import io.galore4j.quant.EncodedState;
import io.galore4j.quant.GroupQuantizer;
import io.galore4j.quant.Moment;
import io.galore4j.quant.QuantizedTensor;
import io.galore4j.quant.Rounding;
import io.galore4j.quant.RoundingRng;
import io.galore4j.quant.StateCodec;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One q-galore step for a 2048×5461 weight at rank 512 (no refresh inside the measured steps),
 * and its parts through the public APIs it is built from: the projection GEMM R = PᵀG alone and
 * followed by the back-projection GEMM α P N, the dynamic8 state codec round trip of M and V
 * (r×n), and the INT8 stochastic-rounding requantization of the weight; next to a plain GEMM of
 * the same shape (512×2048 · 2048×5461). The basis is INT4, as in the q-galore preset.
 *
 * <p>Run: {@code bin/galore jmh galore QGaloreStepBench -f 1 -wi 2 -i 5}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class QGaloreStepBench {
    private static final int M = 2048;
    private static final int N = 5461;
    private static final int R = 512;

    private LayerwiseOptimizer opt;
    private INDArray grad;
    private INDArray gradCopy;
    private Projector projector;
    private INDArray back;
    private INDArray a;
    private INDArray b;
    private INDArray c;
    private StateCodec mCodec;
    private StateCodec vCodec;
    private EncodedState mState;
    private EncodedState vState;
    private float[] block;
    private GroupQuantizer int8;
    private QuantizedTensor weight;
    private RoundingRng rng;

    @Setup(Level.Trial)
    public void setup() {
        opt = LayerwiseOptimizer.create(OptimSettings.from(Map.of("method", "q-galore", "rank", R, "projection", "w",
                "refresh_gap", 1_000_000)), 1);
        opt.add("w", Nd4j.rand(DataType.FLOAT, M, N).subi(0.5));
        grad = Nd4j.rand(DataType.FLOAT, M, N).subi(0.5).muli(1e-2);
        gradCopy = grad.dup();
        opt.update("w", gradCopy, 1e-3, 1.0); // first step: the SVD, outside the measurement
        opt.endStep();
        projector = new Projector("w", M, N, ProjectorConfig.of(R).withBasisBits(4)
                .withBasisMethod(io.galore4j.projection.BasisMethod.RANDOMIZED), RefreshPolicy.fixed(1_000_000));
        projector.refresh(0, grad);
        back = Nd4j.create(DataType.FLOAT, M, N);
        a = Nd4j.rand(DataType.FLOAT, R, M);
        b = Nd4j.rand(DataType.FLOAT, M, N);
        c = Nd4j.create(DataType.FLOAT, R, N);
        mCodec = StateCodec.of("dynamic8", Moment.FIRST);
        vCodec = StateCodec.of("dynamic8", Moment.SECOND);
        mState = mCodec.allocate(R, N);
        vState = vCodec.allocate(R, N);
        block = new float[4096];
        int8 = new GroupQuantizer(8);
        float[] w = Nd4j.rand(DataType.FLOAT, M, N).data().asFloat();
        rng = new RoundingRng(1);
        weight = int8.quantize(w, 0, w.length, Rounding.NEAREST, null);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        opt.close();
    }

    @Benchmark
    public void fullStep() {
        gradCopy.assign(grad);
        opt.update("w", gradCopy, 1e-3, 1.0);
        opt.endStep();
    }

    @Benchmark
    public INDArray projectGemm() {
        return projector.project(grad);
    }

    @Benchmark
    public void projectAndProjectBack() {
        projector.projectBack(projector.project(grad), back);
    }

    @Benchmark
    public void stateCodecRoundTrip() {
        int n = R * N;
        for (int s = 0; s < n; s += block.length) {
            int len = Math.min(block.length, n - s);
            mCodec.decodeRange(mState, s, len, block, 0);
            mCodec.encodeRange(block, 0, mState, s, len, null);
            vCodec.decodeRange(vState, s, len, block, 0);
            for (int i = 0; i < len; i++) {
                block[i] = Math.abs(block[i]) + 1e-6f;
            }
            vCodec.encodeRange(block, 0, vState, s, len, null);
        }
    }

    @Benchmark
    public void weightRequantizeSr() {
        int8.requantize(weight, back.data().asNioFloat(), 0, Rounding.STOCHASTIC, rng);
    }

    @Benchmark
    public INDArray plainGemm() {
        Nd4j.gemm(a, b, c, false, false, 1.0, 0.0);
        return c;
    }
}
