package io.galore4j.experiments.cli;

import io.galore4j.trainer.StepTiming;
import io.galore4j.trainer.TrainJob;
import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.model.LlamaParameters;
import io.galore4j.trainer.model.ModelConfig;
import io.galore4j.trainer.run.BlasThreads;
import java.io.PrintWriter;
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
import picocli.CommandLine.Mixin;
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
            "Time the model's GEMMs and a 2048x2048x2048 GEMM through ND4J's BLAS, then training steps of the "
                    + "configured run (no files written): tokens/s, achieved GFLOP/s and its ratio to both GEMM rates, and "
                    + "each step split into forward, backward and optimizer (refresh and weight decoding shown apart).",
            "The BLAS runs train.blas_threads threads; --blas-threads 1,2 compares counts in one run instead: the "
                    + "GEMMs are timed at each count and the timed steps cycle through them, so a busy machine slows each alike.",
            "Settings as for train: the embedded defaults, then --config, then each --set."
        })
public final class BenchCommand implements Callable<Integer> {

    @Mixin SettingsOptions settings;

    @Option(names = "--steps", paramLabel = "N", description = "timed training steps (default: ${DEFAULT-VALUE})")
    int steps = 5;

    @Option(names = "--warmup", paramLabel = "N", description = "untimed steps first (default: ${DEFAULT-VALUE})")
    int warmup = 1;

    @Option(names = "--repeats", paramLabel = "N", description = "timings of each GEMM, the fastest kept (default: ${DEFAULT-VALUE})")
    int repeats = 5;

    @Option(names = "--blas-threads", split = ",", paramLabel = "N[,N...]",
            description = "BLAS thread counts to compare, step by step in turn (default: train.blas_threads)")
    List<Integer> blasThreads = new ArrayList<>();

    @Option(names = "--workers", paramLabel = "N",
            description = "time a data-parallel run of N workers instead: each step's exchange time and bytes, and the"
                    + " modelled speed-up on N machines (needs the distributed module)")
    int workers = 1;

    @Mixin MemoryCheck memoryCheck;

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
        for (int n : blasThreads) {
            if (n < 1 || n > 1024) {
                throw new IllegalArgumentException("--blas-threads takes counts in 1..1024, got " + n);
            }
        }
        if (blasThreads.size() > 1 && steps < blasThreads.size()) {
            throw new IllegalArgumentException("--steps " + steps + " is fewer than the " + blasThreads.size()
                    + " BLAS thread counts to compare");
        }
        if (workers < 1 || workers > 1024) {
            throw new IllegalArgumentException("--workers takes 1..1024, got " + workers);
        }
        TrainJob job = TrainJob.resolve(settings.over(ConfigTree.defaults()), System.out);
        memoryCheck.check(job);
        PrintWriter out = spec.commandLine().getOut();
        if (workers > 1) {
            WorkersBench.run(settings.over(ConfigTree.defaults()), workers, warmup, steps, out);
            return 0;
        }
        ModelConfig m = job.model();
        long tokens = job.tokensPerBatch();
        out.printf("bench: %s; hidden %d, %d layers, intermediate %d, vocab %d (%,d parameters); %d tokens per step"
                        + " (batch × seq); %d warm-up + %d timed steps; BLAS %s%n", job.method(), m.hidden(), m.layers(),
                m.intermediate(), m.vocab(), m.parameterCount(), tokens, warmup, steps, BlasThreads.library());
        out.flush();

        int threadsBefore = BlasThreads.current();
        List<Integer> counts = blasThreads.isEmpty() ? List.of(job.blasThreads()) : List.copyOf(blasThreads);
        boolean compare = counts.size() > 1;
        try {
            double[] modelRate = new double[counts.size()];
            double[] squareRate = new double[counts.size()];
            for (int c = 0; c < counts.size(); c++) {
                BlasThreads.apply(counts.get(c));
                double[] rates = gemmTable(out, m, tokens, counts.get(c));
                modelRate[c] = rates[0];
                squareRate[c] = rates[1];
            }

            // timed step i runs at counts[i mod n]: the counts alternate, so drift in the machine's
            // load reaches each of them alike
            int[] threadsOf = new int[warmup + steps];
            List<StepTiming> timings = job.start(null).bench(warmup, steps, step -> {
                int c = Math.floorMod(step - warmup, counts.size());
                threadsOf[step] = c;
                BlasThreads.apply(counts.get(c));
            });
            out.println("step   total s  forward  backward  optimizer (refresh, weights)     tokens/s  GFLOP/s  loss"
                    + "    cpu s  main cpu s" + (compare ? "  BLAS threads" : ""));
            for (StepTiming t : timings) {
                out.printf("%4d %9.4f %8.4f %9.4f %10.4f (%7.4f, %7.4f) %10.0f %8.2f  %.4f %8.3f %11.3f%s%n", t.step(),
                        t.total(), t.forward(), t.backward(), t.optimizer(), t.refresh(), t.weights(),
                        tokens / t.total(), tokens * m.flopsPerToken() / t.total() / 1e9, t.loss(), t.cpu(),
                        t.mainCpu(), compare ? String.format("  %12d", counts.get(threadsOf[t.step() - 1])) : "");
            }
            for (int c = 0; c < counts.size(); c++) {
                final int cc = c;
                List<StepTiming> mine = timings.stream().filter(t -> threadsOf[t.step() - 1] == cc).toList();
                StepTiming med = median(mine);
                double rate = tokens * m.flopsPerToken() / med.total() / 1e9;
                String who = compare ? String.format("BLAS threads %d: ", counts.get(c)) : "";
                out.printf("%smedian step %.3f s: %.0f tokens/s, %.2f GFLOP/s = %.1f%% of the model's GEMMs,"
                                + " %.1f%% of the 2048³ GEMM%n", who, med.total(), tokens / med.total(), rate,
                        100 * rate / modelRate[c], 100 * rate / squareRate[c]);
                out.printf("%smedian split: forward %.1f%%, backward %.1f%%, optimizer %.1f%% (refresh %.1f%%),"
                                + " weight decoding %.1f%%%n", who, pct(med.forward(), med.total()),
                        pct(med.backward(), med.total()), pct(med.optimizer(), med.total()),
                        pct(med.refresh(), med.total()), pct(med.weights(), med.total()));
                out.printf("%smedian CPU: %.3f s for the process, %.3f s on the step's thread, which was off a core"
                                + " for %.1f%% of the step%n", who, med.cpu(), med.mainCpu(),
                        pct(Math.max(0, med.total() - med.mainCpu()), med.total()));
            }
            if (compare) {
                for (int c = 1; c < counts.size(); c++) {
                    double[] ratios = cycleRatios(timings, counts.size(), c, StepTiming::total);
                    out.printf("BLAS threads %d vs %d: step time ratio %.3f (median over %d cycles of consecutive"
                                    + " steps; below 1 means %d threads is faster)%n", counts.get(c), counts.get(0),
                            median(ratios), ratios.length, counts.get(c));
                    double[] cpuRatios = cycleRatios(timings, counts.size(), c, StepTiming::cpu);
                    out.printf("BLAS threads %d vs %d: process CPU time ratio %.3f (median over %d cycles)%n",
                            counts.get(c), counts.get(0), median(cpuRatios), cpuRatios.length);
                }
            }
            out.flush();
            return 0;
        } finally {
            BlasThreads.apply(threadsBefore);
        }
    }

    /**
     * Prints the GEMM table at the BLAS's current thread count {@code threads}; returns the
     * model's GEMMs' rate together and the 2048³ GEMM's rate, in GFLOP/s.
     */
    private double[] gemmTable(PrintWriter out, ModelConfig m, long tokens, int threads) {
        out.printf("%-40s count    best ms   GFLOP/s%n", String.format("GEMM (ND4J BLAS, %d thread%s)", threads,
                threads == 1 ? "" : "s"));
        double flops = 0;
        double seconds = 0;
        for (Gemm g : modelGemms(m, tokens, repeats)) {
            out.printf("  %-38s %5d %10.3f %9.2f%n", g.shape(), g.count(), g.seconds() * 1e3, g.gflops());
            flops += g.count() * g.flops();
            seconds += g.count() * g.seconds();
        }
        double modelRate = flops / seconds / 1e9;
        Gemm square = time("2048 x 2048 x 2048", 1, 2048, 2048, 2048, repeats);
        out.printf("  %-38s %5s %10.3f %9.2f%n", square.shape(), "", square.seconds() * 1e3, square.gflops());
        out.printf("  the model's GEMMs together: %.1f GFLOP/s%n", modelRate);
        out.flush();
        return new double[] {modelRate, square.gflops()};
    }

    /**
     * Per cycle of {@code n} consecutive timed steps (one at each thread count), the measure
     * {@code f} of the step at count {@code c} over that of the step at the first count.
     */
    static double[] cycleRatios(List<StepTiming> timings, int n, int c,
                                java.util.function.ToDoubleFunction<StepTiming> f) {
        double[] r = new double[timings.size() / n];
        for (int k = 0; k < r.length; k++) {
            r[k] = f.applyAsDouble(timings.get(k * n + c)) / f.applyAsDouble(timings.get(k * n));
        }
        return r;
    }

    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    }

    private static double pct(double part, double whole) {
        return 100 * part / whole;
    }

    /** The medians of each column over the timed steps (each column on its own). */
    static StepTiming median(List<StepTiming> t) {
        return new StepTiming(0, med(t, StepTiming::total), med(t, StepTiming::forward), med(t, StepTiming::optimizer),
                med(t, StepTiming::refresh), med(t, StepTiming::weights), med(t, StepTiming::loss), 0,
                med(t, StepTiming::cpu), med(t, StepTiming::mainCpu));
    }

    private static double med(List<StepTiming> t, java.util.function.ToDoubleFunction<StepTiming> f) {
        return median(t.stream().mapToDouble(f).toArray());
    }

    /** Every distinct matrix shape that enters a product (all but the embedding lookup), in model order. */
    static List<Gemm> modelGemms(ModelConfig m, long tokens, int repeats) {
        List<Gemm> out = new ArrayList<>();
        for (Map.Entry<long[], Long> e : weightShapes(m).entrySet()) {
            long[] s = e.getKey();
            String label = String.format("%d x %d · (%d x %d)ᵀ", tokens, s[1], s[0], s[1]);
            out.add(time(label, e.getValue(), tokens, s[1], s[0], repeats));
        }
        return out;
    }

    /**
     * The distinct [out × in] shapes of the weights that enter a matrix product (all but the
     * embedding lookup), in model order, each with the number of weights of that shape.
     */
    static Map<long[], Long> weightShapes(ModelConfig m) {
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
        Map<long[], Long> out = new LinkedHashMap<>();
        shapes.forEach((key, s) -> out.put(s, counts.get(key)));
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
