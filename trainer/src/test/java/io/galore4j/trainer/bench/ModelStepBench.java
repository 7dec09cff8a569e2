package io.galore4j.trainer.bench;

import io.galore4j.trainer.model.DenseWeights;
import io.galore4j.trainer.model.GradientSink;
import io.galore4j.trainer.model.LlamaModel;
import io.galore4j.trainer.model.ModelConfig;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * One forward+backward of a preset model on a FLOAT batch (default: micro, batch 16 × seq 128),
 * against a baseline GEMM of the same kind in the same run: the MLP's up projection
 * [B·T, hidden] × [hidden, intermediate]ᵀ. Tokens/s = B·T / step time; achieved GFLOP/s =
 * flopsPerToken · B·T / step time, to compare with the baseline's 2·m·n·k / time.
 *
 * <pre>bin/galore jmh trainer -f 1 -wi 2 -i 5 ModelStepBench</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class ModelStepBench {

    @Param({"micro"})
    public String preset;

    @Param({"16"})
    public int batchSize;

    @Param({"false"})
    public boolean checkpoint;

    private LlamaModel model;
    private int[][] batch;
    private INDArray x;
    private INDArray w;
    private INDArray y;
    private final GradientSink discard = (name, grad) -> { };

    @Setup
    public void setUp() {
        ModelConfig config = ModelConfig.preset(preset);
        model = new LlamaModel(config, DenseWeights.initialize(config, DataType.FLOAT, 1));
        model.setCheckpointActivations(checkpoint);
        SplittableRandom random = new SplittableRandom(2);
        batch = new int[batchSize][config.seqLen() + 1];
        for (int[] row : batch) {
            for (int t = 0; t < row.length; t++) {
                row[t] = random.nextInt(config.vocab());
            }
        }
        int rows = batchSize * config.seqLen();
        x = Nd4j.rand(DataType.FLOAT, rows, config.hidden());
        w = Nd4j.rand(DataType.FLOAT, config.intermediate(), config.hidden());
        y = Nd4j.create(DataType.FLOAT, rows, config.intermediate());
        double flops = config.flopsPerToken() * rows;
        System.out.printf("%n%s: %d tokens per step, %.3f GFLOP per step (flopsPerToken %.4g); baseline GEMM"
                        + " %.3f GFLOP%n", preset, rows, flops / 1e9, config.flopsPerToken(),
                2.0 * rows * config.hidden() * config.intermediate() / 1e9);
    }

    @Benchmark
    public double forwardBackward() {
        return model.forwardBackward(batch, discard);
    }

    @Benchmark
    public double forwardOnly() {
        return model.loss(batch);
    }

    @Benchmark
    public INDArray baselineGemm() {
        return Nd4j.gemm(x, w, y, false, true, 1.0, 0.0);
    }
}
