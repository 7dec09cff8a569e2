package io.galore4j.galore.bench;

import io.galore4j.galore.LayerwiseOptimizer;
import io.galore4j.galore.OptimSettings;
import java.util.HashMap;
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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One optimizer step of a 2048×5461 weight (the 1B model's MLP shape) by each projected method at
 * its preset, rank 512 (APOLLO-Mini: its rank 1): {@code step} without a refresh, {@code
 * refreshEveryStep} with the basis recomputed (GaLore, Fira: an SVD) or P redrawn (APOLLO) at every
 * step. A step with the refresh amortized over a gap of g steps costs step + (refreshEveryStep −
 * step) / g. APOLLO draws its P from the seed at every update (docs/design.md §3.10), so its
 * {@code step} already includes a draw.
 *
 * <p>Run: {@code bin/galore jmh galore MethodStepBench -f 1 -wi 1 -i 3 -w 2s -r 2s}; on a shared
 * machine {@link MethodStepCpu} measures the same steps in process CPU time instead.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class MethodStepBench {
    private static final int M = 2048;
    private static final int N = 5461;
    private static final int R = 512;

    @Param({"galore", "q-galore", "fira", "apollo", "apollo-mini"})
    public String method;

    private LayerwiseOptimizer steady;
    private LayerwiseOptimizer refreshing;
    private INDArray grad;
    private INDArray work;

    /**
     * An optimizer of {@code method} over one M×N weight "w", refreshing every {@code gap} steps,
     * after its first step (which refreshes) with {@code grad}; {@code work} is the gradient buffer.
     */
    static LayerwiseOptimizer optimizer(String method, long gap, INDArray grad, INDArray work) {
        Map<String, Object> s = new HashMap<>(Map.of("method", method, "projection", "w", "refresh", "fixed",
                "refresh_gap", gap));
        if (!method.equals("apollo-mini")) {
            s.put("rank", R);
        }
        LayerwiseOptimizer opt = LayerwiseOptimizer.create(OptimSettings.from(s), 1);
        opt.add("w", Nd4j.rand(DataType.FLOAT, M, N).subi(0.5));
        step(opt, grad, work); // the first step refreshes: outside the measurement
        return opt;
    }

    /** One update of "w" with {@code grad} (copied into {@code work}, which the update overwrites). */
    static void step(LayerwiseOptimizer opt, INDArray grad, INDArray work) {
        work.assign(grad);
        opt.update("w", work, 1e-3, 1.0);
        opt.endStep();
    }

    static INDArray gradient() {
        return Nd4j.rand(DataType.FLOAT, M, N).subi(0.5).muli(1e-2);
    }

    @Setup(Level.Trial)
    public void setup() {
        grad = gradient();
        work = grad.dup();
        steady = optimizer(method, 1_000_000, grad, work);
        refreshing = optimizer(method, 1, grad, work);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        steady.close();
        refreshing.close();
    }

    @Benchmark
    public void step() {
        step(steady, grad, work);
    }

    @Benchmark
    public void refreshEveryStep() {
        step(refreshing, grad, work);
    }
}
