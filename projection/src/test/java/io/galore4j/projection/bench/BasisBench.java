package io.galore4j.projection.bench;

import io.galore4j.projection.Projector;
import io.galore4j.projection.ProjectorConfig;
import io.galore4j.projection.RefreshPolicy;
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
 * Basis computation on a gradient-like matrix ({@link GradientLike}, σ_i = 1/√i plus noise):
 * exact thin SVD (sgesdd), randomized SVD (default p, q) and, as the baseline, ND4J's
 * {@code lapack().gesvd}, which forms the full U (m×m) and Vᵀ (n×n). The overlap of the
 * randomized basis with the exact one is printed at tear-down. Single shot: one call is
 * hundreds of milliseconds to seconds.
 *
 * <p>Run: {@code bin/galore jmh projection BasisBench -bm ss -f 1 -wi 1 -i 3}
 * (the 4096×11008 size is measured by {@link BasisTiming} instead: gesvd there takes many minutes).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class BasisBench {
    @Param({"512x1376"})
    public String shape;

    @Param({"128", "512"})
    public int rank;

    private int m;
    private int n;
    private INDArray grad;
    private Projector exact;
    private Projector randomized;
    private INDArray gesvdA;
    private INDArray s;
    private INDArray u;
    private INDArray vt;

    @Setup(Level.Trial)
    public void setup() {
        String[] mn = shape.split("x");
        m = Integer.parseInt(mn[0]);
        n = Integer.parseInt(mn[1]);
        grad = GradientLike.create(m, n, 0.5, 1);
        exact = new Projector("w", m, n, ProjectorConfig.of(rank), RefreshPolicy.fixed(1));
        randomized = new Projector("w", m, n, ProjectorConfig.of(rank).withRandomized(
                ProjectorConfig.defaultOversampling(rank), ProjectorConfig.DEFAULT_POWER_ITERATIONS, 42),
                RefreshPolicy.fixed(1));
        gesvdA = Nd4j.createUninitialized(DataType.FLOAT, m, n);
        s = Nd4j.create(DataType.FLOAT, Math.min(m, n));
        u = Nd4j.create(DataType.FLOAT, m, m);
        vt = Nd4j.create(DataType.FLOAT, n, n);
    }

    @Setup(Level.Invocation)
    public void copyForGesvd() {
        gesvdA.assign(grad);                 // gesvd destroys its input
    }

    @TearDown(Level.Trial)
    public void overlap() {
        if (randomized.hasBasis()) {             // the randomizedSvd trial: one exact SVD, untimed
            exact.refresh(0, grad);
            System.out.printf("%n%s r=%d: overlap(randomized, exact) = %.5f%n", shape, rank,
                    GradientLike.overlap(exact.basisTransposed(), randomized.basisTransposed()));
        }
    }

    @Benchmark
    public INDArray exactSvd() {
        exact.refresh(0, grad);
        return exact.basisTransposed();
    }

    @Benchmark
    public INDArray randomizedSvd() {
        randomized.refresh(0, grad);
        return randomized.basisTransposed();
    }

    @Benchmark
    public INDArray nd4jGesvd() {
        Nd4j.getBlasWrapper().lapack().gesvd(gesvdA, s, u, vt);
        return u;
    }
}
