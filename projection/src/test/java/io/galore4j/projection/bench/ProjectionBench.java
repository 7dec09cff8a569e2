package io.galore4j.projection.bench;

import io.galore4j.projection.Projector;
import io.galore4j.projection.ProjectorConfig;
import io.galore4j.projection.RefreshPolicy;
import io.galore4j.projection.TestMatrices;
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
 * Projection plus back-projection of an m×n gradient at rank r (2·(2mnr) flops: R = Pᵀ G or G P,
 * then α P N or α N Pᵀ into the gradient's buffer) next to the plain GEMMs of the same flop count
 * on the same data: {@code gemmPair} = G·X (m×n · n×r) then Y·Xᵀ (m×r · r×n), no projector logic.
 * The ratio projectAndBack / gemmPair is the overhead of the projector; GFLOP/s = 4mnr / time.
 *
 * <p>Run: {@code bin/galore jmh projection ProjectionBench -f 1 -wi 2 -i 3}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class ProjectionBench {
    @Param({"4096x11008"})
    public String shape;

    @Param({"1024"})
    public int rank;

    private Projector projector;
    private INDArray grad;
    private INDArray out;
    private INDArray x;
    private INDArray y;

    @Setup(Level.Trial)
    public void setup() {
        String[] mn = shape.split("x");
        int m = Integer.parseInt(mn[0]);
        int n = Integer.parseInt(mn[1]);
        grad = TestMatrices.gaussian(m, n, 1);
        out = Nd4j.createUninitialized(DataType.FLOAT, m, n);
        projector = new Projector("w", m, n, ProjectorConfig.of(rank).withRandomized(16, 0, 1), RefreshPolicy.fixed(1));
        projector.refresh(0, grad);             // the basis itself does not matter for the timing
        x = TestMatrices.gaussian(n, rank, 2);
        y = Nd4j.createUninitialized(DataType.FLOAT, m, rank);
    }

    @TearDown(Level.Trial)
    public void report() {
        String[] mn = shape.split("x");
        double gflop = 4.0 * Long.parseLong(mn[0]) * Long.parseLong(mn[1]) * rank / 1e9;
        System.out.printf("%nflops per call (both benchmarks): %.1f GFLOP; GFLOP/s = %.1f / (ms/1000)%n", gflop, gflop);
    }

    @Benchmark
    public INDArray projectAndBack() {
        INDArray r = projector.project(grad);
        projector.projectBack(r, out);
        return out;
    }

    @Benchmark
    public INDArray gemmPair() {
        Nd4j.gemm(grad, x, y, false, false, 1.0, 0.0);
        Nd4j.gemm(y, x, out, false, true, 0.25, 0.0);
        return out;
    }
}
