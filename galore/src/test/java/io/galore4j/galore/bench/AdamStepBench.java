package io.galore4j.galore.bench;

import io.galore4j.galore.LayerwiseOptimizer;
import io.galore4j.galore.OptimSettings;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.AdamUpdater;
import org.nd4j.linalg.learning.config.Adam;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One full-rank AdamW step on 16M parameters (4096×4096, fp32 weight): this module's fused
 * decode → Adam → encode → weight loop per block, per state codec, against ND4J's Adam updater
 * ({@code AdamUpdater.applyUpdater}, a native op) followed by W −= update, in the same run.
 * Ratio = nd4j time / method time (≥ 1 means at least as fast).
 *
 * <p>Run: {@code bin/galore jmh galore AdamStepBench -f 1 -wi 2 -i 5}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class AdamStepBench {
    private static final int SIDE = 4096;

    @Param({"adamw", "adamw8bit", "adamw4bit"})
    public String method;

    private LayerwiseOptimizer opt;
    private INDArray grad;
    private AdamUpdater nd4j;
    private INDArray weight;
    private INDArray nd4jGrad;

    @Setup(Level.Trial)
    public void setup() {
        opt = LayerwiseOptimizer.create(OptimSettings.from(Map.of("method", method)), 1);
        opt.add("lm_head.weight", Nd4j.rand(DataType.FLOAT, SIDE, SIDE).subi(0.5));
        grad = Nd4j.rand(DataType.FLOAT, SIDE, SIDE).subi(0.5).muli(1e-2);
        weight = Nd4j.rand(DataType.FLOAT, SIDE, SIDE);
        nd4jGrad = grad.dup();
        INDArray view = Nd4j.zeros(DataType.FLOAT, 1, 2L * SIDE * SIDE);
        nd4j = (AdamUpdater) new Adam(1e-3, 0.9, 0.999, 1e-8).instantiate(view, true);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        opt.close();
    }

    @Benchmark
    public void galoreModuleStep() {
        opt.update("lm_head.weight", grad, 1e-3, 1.0); // fp32 weight: grad is not overwritten
        opt.endStep();
    }

    private int iteration;

    @Benchmark
    public void nd4jAdamUpdater() {
        nd4jGrad.assign(grad);
        nd4j.applyUpdater(nd4jGrad, iteration++, 0);
        weight.subi(nd4jGrad);
    }
}
