package io.galore4j.trainer;

import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.model.LlamaParameters;
import io.galore4j.trainer.model.ModelConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code galore bench}: how close training runs to this machine's arithmetic limit. Times the
 * model's matrix products alone (each weight shape at the run's batch × seq tokens, through the
 * BLAS the trainer uses) and a 2048³ GEMM, then timed training steps split into forward,
 * backward and optimizer; all in one process, so the ratios compare like with like.
 */
@Command(
        name = "bench",
        header = "Time the model's GEMMs and training steps, split by phase.",
        mixinStandardHelpOptions = true,
        description = {
            "Time the model's GEMMs and a 2048x2048x2048 GEMM through ND4J's BLAS, then training steps of the",
            "configured run (no files written): tokens/s, achieved GFLOP/s and its ratio to both GEMM rates, and",
            "each step split into forward, backward and optimizer (refresh and weight decoding shown apart).",
            "Settings as for train: the embedded defaults, then --config, then each --set."
        })
public final class BenchCommand implements Callable<Integer> {

    @Option(names = "--config", paramLabel = "FILE", description = "YAML file with model/data/train/optim settings")
    Path config;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "override one setting, as for train (repeatable)")
    List<String> sets = new ArrayList<>();

    @Option(names = "--steps", paramLabel = "N", description = "timed training steps (default: ${DEFAULT-VALUE})")
    int steps = 5;

    @Option(names = "--warmup", paramLabel = "N", description = "untimed steps first (default: ${DEFAULT-VALUE})")
    int warmup = 1;

    @Option(names = "--repeats", paramLabel = "N", description = "timings of each GEMM, the fastest kept (default: ${DEFAULT-VALUE})")
    int repeats = 5;

    @Option(names = "--no-memory-check",
            description = "start even when the estimated memory (galore memory) exceeds what the machine has available")
    boolean noMemoryCheck;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** One GEMM shape's best time: y[tokens × out] = x[tokens × in] · W[out × in]ᵀ, {@code count} weights. */
    record Gemm(String shape, long count, double flops, double seconds) {
        double gflops() {
            return flops / seconds / 1e9;
        }
    }

    @Override
    public Integer call() throws Exception {
        if (steps < 1 || warmup < 0 || repeats < 1) {
            throw new IllegalArgumentException("--steps and --repeats must be >= 1 and --warmup >= 0, got "
                    + steps + ", " + repeats + ", " + warmup);
        }
        TrainJob job = TrainJob.resolve(ConfigTree.defaults().with(config, sets), System.out);
        if (!noMemoryCheck) {
            TrainCommand.checkMemory(job);
        }
        PrintWriter out = spec.commandLine().getOut();
        ModelConfig m = job.model();
        long tokens = job.tokensPerBatch();
        out.printf("bench: %s; hidden %d, %d layers, intermediate %d, vocab %d (%,d parameters); %d tokens per step"
                        + " (batch × seq); %d warm-up + %d timed steps%n", job.method(), m.hidden(), m.layers(),
                m.intermediate(), m.vocab(), m.parameterCount(), tokens, warmup, steps);
        out.flush();

        List<Gemm> gemms = modelGemms(m, tokens, repeats);
        double flops = 0;
        double seconds = 0;
        out.println("GEMM (ND4J BLAS)                         count    best ms   GFLOP/s");
        for (Gemm g : gemms) {
            out.printf("  %-38s %5d %10.3f %9.2f%n", g.shape(), g.count(), g.seconds() * 1e3, g.gflops());
            flops += g.count() * g.flops();
            seconds += g.count() * g.seconds();
        }
        double modelRate = flops / seconds / 1e9;
        Gemm square = time("2048 x 2048 x 2048", 1, 2048, 2048, 2048, repeats);
        out.printf("  %-38s %5s %10.3f %9.2f%n", square.shape(), "", square.seconds() * 1e3, square.gflops());
        out.printf("  the model's GEMMs together: %.1f GFLOP/s%n", modelRate);
        out.flush();

        List<StepTiming> timings = job.start(null).bench(warmup, steps);
        out.println("step   total s  forward  backward  optimizer (refresh, weights)     tokens/s  GFLOP/s  loss");
        for (StepTiming t : timings) {
            out.printf("%4d %9.4f %8.4f %9.4f %10.4f (%7.4f, %7.4f) %10.0f %8.2f  %.4f%n", t.step(), t.total(),
                    t.forward(), t.backward(), t.optimizer(), t.refresh(), t.weights(), tokens / t.total(),
                    tokens * m.flopsPerToken() / t.total() / 1e9, t.loss());
        }
        StepTiming med = median(timings);
        double rate = tokens * m.flopsPerToken() / med.total() / 1e9;
        out.printf("median step %.3f s: %.0f tokens/s, %.2f GFLOP/s = %.1f%% of the model's GEMMs, %.1f%% of the 2048³ GEMM%n",
                med.total(), tokens / med.total(), rate, 100 * rate / modelRate, 100 * rate / square.gflops());
        out.printf("median split: forward %.1f%%, backward %.1f%%, optimizer %.1f%% (refresh %.1f%%), weight decoding %.1f%%%n",
                pct(med.forward(), med.total()), pct(med.backward(), med.total()), pct(med.optimizer(), med.total()),
                pct(med.refresh(), med.total()), pct(med.weights(), med.total()));
        out.flush();
        return 0;
    }

    private static double pct(double part, double whole) {
        return 100 * part / whole;
    }

    /** The medians of each column over the timed steps (each column on its own). */
    static StepTiming median(List<StepTiming> t) {
        return new StepTiming(0, med(t, StepTiming::total), med(t, StepTiming::forward), med(t, StepTiming::optimizer),
                med(t, StepTiming::refresh), med(t, StepTiming::weights), med(t, StepTiming::loss), 0);
    }

    private static double med(List<StepTiming> t, java.util.function.ToDoubleFunction<StepTiming> f) {
        double[] v = t.stream().mapToDouble(f).sorted().toArray();
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    }

    /** Every distinct matrix shape that enters a product (all but the embedding lookup), in model order. */
    static List<Gemm> modelGemms(ModelConfig m, long tokens, int repeats) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        Map<String, Long> counts = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : LlamaParameters.shapes(m).entrySet()) {
            long[] s = e.getValue();
            if (s.length != 2 || e.getKey().equals(LlamaParameters.EMBED_TOKENS)) {
                continue;
            }
            String key = Arrays.toString(s);
            shapes.putIfAbsent(key, s);
            counts.merge(key, 1L, Long::sum);
        }
        List<Gemm> out = new ArrayList<>();
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long[] s = e.getValue();
            String label = String.format("%d x %d · (%d x %d)ᵀ", tokens, s[1], s[0], s[1]);
            out.add(time(label, counts.get(e.getKey()), tokens, s[1], s[0], repeats));
        }
        return out;
    }

    /** The fastest of {@code repeats} timings (after one untimed call) of [rows × inner] · [cols × inner]ᵀ. */
    static Gemm time(String label, long count, long rows, long inner, long cols, int repeats) {
        try (INDArray x = Nd4j.rand(DataType.FLOAT, rows, inner);
             INDArray w = Nd4j.rand(DataType.FLOAT, cols, inner);
             INDArray y = Nd4j.create(DataType.FLOAT, rows, cols)) {
            Nd4j.gemm(x, w, y, false, true, 1.0, 0.0);
            long best = Long.MAX_VALUE;
            for (int r = 0; r < repeats; r++) {
                long t0 = System.nanoTime();
                Nd4j.gemm(x, w, y, false, true, 1.0, 0.0);
                best = Math.min(best, System.nanoTime() - t0);
            }
            return new Gemm(label, count, 2.0 * rows * inner * cols, best / 1e9);
        }
    }
}
