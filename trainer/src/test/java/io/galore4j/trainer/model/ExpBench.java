package io.galore4j.trainer.model;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The bulk exponential of the model's kernels against a {@link Math#exp} loop, in the same run,
 * on one row of logits (a copy of the inputs is taken first in both, as the kernels overwrite
 * their staging arrays). Lives beside {@link Exp}, which is package-private.
 *
 * <pre>bin/galore jmh trainer -f 1 -wi 3 -i 10 -w 1 -r 1 ExpBench</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ExpBench {

    @Param({"32000"})
    public int length;

    private double[] source;
    private double[] x;

    @Setup
    public void setUp() {
        SplittableRandom random = new SplittableRandom(5);
        source = new double[length];
        x = new double[length];
        for (int i = 0; i < length; i++) {
            source[i] = -20 + 20 * random.nextDouble(); // logits minus their maximum
        }
    }

    @Benchmark
    public double[] mathExp() {
        System.arraycopy(source, 0, x, 0, length);
        for (int i = 0; i < length; i++) {
            x[i] = Math.exp(x[i]);
        }
        return x;
    }

    @Benchmark
    public double[] bulkExp() {
        System.arraycopy(source, 0, x, 0, length);
        Exp.affine(x, 0, length, 1.0, 0.0);
        return x;
    }
}
