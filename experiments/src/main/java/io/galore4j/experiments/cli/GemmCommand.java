package io.galore4j.experiments.cli;

import io.galore4j.experiments.cli.GemmRoutes.Missing;
import io.galore4j.experiments.cli.GemmRoutes.Operands;
import io.galore4j.experiments.cli.GemmRoutes.Problem;
import io.galore4j.experiments.cli.GemmRoutes.Route;
import io.galore4j.trainer.model.ModelConfig;
import java.io.PrintWriter;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code galore gemm}: which fp32 and bf16 matrix-product routes this process can reach, and how
 * fast and how exact each is on the model's products (forward y = x·Wᵀ, backward dx = dy·W and
 * dW = dyᵀ·x for every weight shape, docs/design.md §2) and on a square product. Every route runs
 * every problem in turn within each repeat, so a busy machine slows them alike.
 */
@Command(
        name = "gemm",
        header = "Time fp32 and bf16 GEMM routes (MKL, OpenBLAS, oneDNN) on the model's products.",
        mixinStandardHelpOptions = true,
        description = {
            "For each weight shape of the model, the forward product and the two backward products at batch x seq"
                    + " tokens, and an N x N x N product: the best time of each route, its GFLOP/s, its ratio to MKL's"
                    + " fp32 sgemm, and its relative (Frobenius) error against a float64 product of the same fp32"
                    + " inputs over sampled rows. bf16 routes are also shown with the fp32-to-bf16 rounding of both"
                    + " operands (oneDNN reorder) added to their time.",
            "Threads: OMP_NUM_THREADS if set, else one per core; MKL and ND4J's BLAS are set to it, oneDNN's OpenMP"
                    + " reads it when the process starts."
        })
public final class GemmCommand implements Callable<Integer> {

    @Option(names = "--model", paramLabel = "PRESET", description = "model preset (default: ${DEFAULT-VALUE})")
    String model = "60m";

    @Option(names = "--batch", paramLabel = "N", description = "sequences per batch (default: ${DEFAULT-VALUE})")
    int batch = 8;

    @Option(names = "--seq", paramLabel = "N", description = "tokens per sequence (default: the preset's seq_len)")
    Integer seq;

    @Option(names = "--square", paramLabel = "N", description = "also an N x N x N product; 0: none (default: ${DEFAULT-VALUE})")
    int square = 2048;

    @Option(names = "--repeats", paramLabel = "N", description = "timings of each route and problem after one warm-up, the fastest kept (default: ${DEFAULT-VALUE})")
    int repeats = 3;

    @Option(names = "--rows", paramLabel = "N", description = "result rows compared with float64 (default: ${DEFAULT-VALUE})")
    int rows = 16;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (batch < 1 || (seq != null && seq < 1) || square < 0 || repeats < 1 || rows < 1) {
            throw new IllegalArgumentException("--batch, --seq, --repeats and --rows must be >= 1 and --square >= 0");
        }
        if (!ModelConfig.presetNames().contains(model)) {
            throw new IllegalArgumentException("--model: no preset '" + model + "' (presets: "
                    + String.join(", ", ModelConfig.presetNames()) + ")");
        }
        ModelConfig m = ModelConfig.preset(model);
        long tokensLong = (long) batch * (seq == null ? m.seqLen() : seq);
        if (tokensLong > 1 << 16) {
            throw new IllegalArgumentException("--batch x --seq is " + tokensLong + " tokens; at most 65536 here");
        }
        int tokens = (int) tokensLong;
        int threads = threads(System.getenv("OMP_NUM_THREADS"), Runtime.getRuntime().availableProcessors());
        PrintWriter out = spec.commandLine().getOut();
        List<Missing> missing = new ArrayList<>();
        List<Route> routes = GemmRoutes.available(missing);
        if (routes.isEmpty()) {
            throw new IllegalArgumentException("no GEMM route loads in this process: " + missing);
        }
        GemmRoutes.threads(routes, threads);
        out.printf("gemm: model %s (hidden %d, intermediate %d, vocab %d), %d tokens; %d thread%s; best of %d after"
                        + " one warm-up; error over %d rows against float64%n", model, m.hidden(), m.intermediate(),
                m.vocab(), tokens, threads, threads == 1 ? "" : "s", repeats, rows);
        for (Missing x : missing) {
            out.printf("not reachable: %s: %s%n", x.name(), x.reason());
        }
        out.printf("baseline of the x columns: %s; +conv: with both operands rounded from fp32 to bf16 (oneDNN"
                + " reorder) in the time%n", routes.get(0).name());
        out.printf("%-22s %-24s %5s %10s %9s %7s %10s %9s %7s  %s%n", "product", "route", "count", "best ms",
                "GFLOP/s", "x base", "rel.error", "+conv GF", "x base", "kernel");
        out.flush();
        double[] flops = new double[routes.size()];
        double[] seconds = new double[routes.size()];
        double[] secondsConv = new double[routes.size()];
        for (Problem p : problems(m, tokens, square)) {
            double[][] t = measure(p, routes, repeats, rows, out);
            for (int r = 0; r < routes.size(); r++) {
                if (p.count() > 0) {
                    flops[r] += p.count() * p.flops();
                    seconds[r] += p.count() * t[r][0];
                    secondsConv[r] += p.count() * (t[r][0] + t[r][2]);
                }
            }
        }
        out.println("the model's products together (each weighted by its count):");
        for (int r = 0; r < routes.size(); r++) {
            boolean bf16 = routes.get(r).readsBf16();
            out.printf("  %-28s %8.1f GFLOP/s  %5.2fx %s%s%n", routes.get(r).name(), flops[r] / seconds[r] / 1e9,
                    seconds[0] / seconds[r], routes.get(0).name(), bf16 ? String.format("; with conversion %.1f GFLOP/s, %.2fx",
                            flops[r] / secondsConv[r] / 1e9, seconds[0] / secondsConv[r]) : "");
        }
        out.flush();
        return 0;
    }

    /** The thread count: OMP_NUM_THREADS when set (a positive integer), else {@code cores}. */
    static int threads(String omp, int cores) {
        if (omp == null || omp.isBlank()) {
            return cores;
        }
        try {
            int n = Integer.parseInt(omp.trim());
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("OMP_NUM_THREADS must be a positive integer, got '" + omp + "'");
    }

    /** The model's products at {@code tokens} tokens, three per weight shape, then the square one (count 0). */
    static List<Problem> problems(ModelConfig m, int tokens, int square) {
        List<Problem> out = new ArrayList<>();
        for (Map.Entry<long[], Long> e : BenchCommand.weightShapes(m).entrySet()) {
            int o = (int) e.getKey()[0];
            int i = (int) e.getKey()[1];
            long c = e.getValue();
            out.add(new Problem(String.format("y=x·Wᵀ %dx%d", o, i), c, tokens, i, o, false, true));
            out.add(new Problem(String.format("dx=dy·W %dx%d", o, i), c, tokens, o, i, false, false));
            out.add(new Problem(String.format("dW=dyᵀ·x %dx%d", o, i), c, o, tokens, i, true, false));
        }
        if (square > 0) {
            out.add(new Problem(String.format("%d³", square), 0, square, square, square, false, true));
        }
        return out;
    }

    /**
     * Times every route on {@code p} (the routes interleaved within each repeat) and prints a line
     * per route; returns per route {best seconds, relative error, conversion seconds for bf16 (else 0)}.
     */
    private static double[][] measure(Problem p, List<Route> routes, int repeats, int rows, PrintWriter out) {
        SplittableRandom rnd = new SplittableRandom(p.m() * 31L + p.k() * 7L + p.n());
        try (Operands o = new Operands(p, gaussian(rnd, (long) p.m() * p.k()), gaussian(rnd, (long) p.k() * p.n()))) {
            double[][] reference = reference(o, rows);
            Runnable[] runs = new Runnable[routes.size()];
            double[][] result = new double[routes.size()][3];
            for (int r = 0; r < routes.size(); r++) {
                runs[r] = routes.get(r).prepare(o);
                runs[r].run();
                result[r][1] = relativeError(o, reference);
                result[r][0] = Double.MAX_VALUE;
            }
            Runnable conv = routes.stream().anyMatch(r -> r instanceof GemmRoutes.Dnnl) ? GemmRoutes.Dnnl.conversion(o) : null;
            double convBest = conv == null ? Double.NaN : Double.MAX_VALUE;
            if (conv != null) {
                conv.run();
            }
            for (int rep = 0; rep < repeats; rep++) {
                for (int r = 0; r < routes.size(); r++) {
                    result[r][0] = Math.min(result[r][0], seconds(runs[r]));
                }
                if (conv != null) {
                    convBest = Math.min(convBest, seconds(conv));
                }
            }
            for (int r = 0; r < routes.size(); r++) {
                Route route = routes.get(r);
                boolean bf16 = route.readsBf16();
                result[r][2] = bf16 ? convBest : 0;
                double gf = p.flops() / result[r][0] / 1e9;
                String conversion = bf16 && conv != null ? String.format("%9.1f %7.2f", p.flops() / (result[r][0]
                        + convBest) / 1e9, result[0][0] / (result[r][0] + convBest)) : String.format("%9s %7s", "", "");
                out.printf("%-22s %-24s %5s %10.3f %9.1f %7.2f %10.2e %s  %s%n", p.label(), route.name(),
                        p.count() > 0 ? String.valueOf(p.count()) : "", result[r][0] * 1e3, gf,
                        result[0][0] / result[r][0], result[r][1], conversion, route.kernel());
            }
            out.flush();
            return result;
        }
    }

    private static double seconds(Runnable run) {
        long t0 = System.nanoTime();
        run.run();
        return (System.nanoTime() - t0) / 1e9;
    }

    private static float[] gaussian(SplittableRandom rnd, long n) {
        float[] x = new float[Math.toIntExact(n)];
        for (int i = 0; i < x.length; i++) {
            // Box–Muller: the JDK's SplittableRandom has no nextGaussian on Java 17
            double u = 1.0 - rnd.nextDouble();
            x[i] = (float) (Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd.nextDouble()));
        }
        return x;
    }

    /** Row indices spread evenly over the result's {@code m} rows, at most {@code rows} of them. */
    static int[] sampledRows(int m, int rows) {
        int n = Math.min(m, rows);
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            r[i] = (int) ((long) i * m / n);
        }
        return r;
    }

    /** The sampled rows of op(A)·op(B) in float64 from the fp32 operands. */
    static double[][] reference(Operands o, int rows) {
        Problem p = o.p;
        int[] rowIndex = sampledRows(p.m(), rows);
        double[][] ref = new double[rowIndex.length][p.n()];
        for (int s = 0; s < rowIndex.length; s++) {
            int i = rowIndex[s];
            double[] acc = ref[s];
            if (p.transB()) {
                for (int j = 0; j < p.n(); j++) {
                    double sum = 0;
                    for (int q = 0; q < p.k(); q++) {
                        sum += (double) opA(o, i, q) * o.b[j * p.k() + q];
                    }
                    acc[j] = sum;
                }
                continue;
            }
            for (int q = 0; q < p.k(); q++) {
                double a = opA(o, i, q);
                int base = q * p.n();
                for (int j = 0; j < p.n(); j++) {
                    acc[j] += a * o.b[base + j];
                }
            }
        }
        return ref;
    }

    private static float opA(Operands o, int i, int q) {
        Problem p = o.p;
        return p.transA() ? o.a[q * p.m() + i] : o.a[i * p.k() + q];
    }

    /** ‖C − ref‖_F / ‖ref‖_F over the sampled rows, C the route's fp32 result in {@code o.c}. */
    static double relativeError(Operands o, double[][] ref) {
        Problem p = o.p;
        int[] rowIndex = sampledRows(p.m(), ref.length);
        FloatBuffer c = o.c.position(0).capacity((long) p.m() * p.n()).asBuffer();
        double diff = 0;
        double norm = 0;
        for (int s = 0; s < rowIndex.length; s++) {
            long base = (long) rowIndex[s] * p.n();
            for (int j = 0; j < p.n(); j++) {
                double d = c.get(Math.toIntExact(base + j)) - ref[s][j];
                diff += d * d;
                norm += ref[s][j] * ref[s][j];
            }
        }
        return Math.sqrt(diff / norm);
    }
}
