package io.galore4j.experiments.cli;

import static io.galore4j.experiments.cli.Cli.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code galore bench}: the GEMM table covers the model's matrices, and the step split adds up. */
class BenchTest {

    private static final Pattern STEP = Pattern.compile(
            "^\\s*(\\d+)\\s+([\\d.]+)\\s+([\\d.]+)\\s+([\\d.]+)\\s+([\\d.]+) \\(\\s*([\\d.]+),\\s*([\\d.]+)\\)\\s+(\\d+)\\s+([\\d.]+)");
    private static final Pattern GEMM = Pattern.compile("^\\s+(\\d+) x (\\d+) · \\((\\d+) x (\\d+)\\)ᵀ\\s+(\\d+)\\s+([\\d.]+)\\s+([\\d.]+)$");

    @TempDir
    static Path dir;
    static Path corpus;

    @BeforeAll
    static void corpus() throws Exception {
        corpus = Cli.corpus(dir);
    }

    private static String[] bench(String method, String... extra) {
        return bench(2, method, extra);
    }

    private static String[] bench(int timedSteps, String method, String... extra) {
        List<String> args = new ArrayList<>(List.of("--set", "train.batch_size=4", "--set", "optim.method=" + method));
        args.addAll(List.of(extra));
        return Cli.withTinyModel(List.of("bench", "--steps", String.valueOf(timedSteps), "--warmup", "0",
                "--repeats", "1", "--set", "data.path=" + corpus), args.toArray(String[]::new));
    }

    @Test
    void gemmTableCoversEveryMatrixAndStepsSplitIntoTheirParts() {
        Cli.Result r = run(bench("q-galore", "--set", "optim.rank=8"));
        assertEquals(0, r.code(), r.err());
        int matrices = 0;
        List<double[]> steps = new ArrayList<>();
        for (String line : r.out().split("\\R")) {
            Matcher g = GEMM.matcher(line);
            if (g.matches()) {
                assertEquals(64, Integer.parseInt(g.group(1)), "batch 4 × seq 16 tokens: " + line);
                // GFLOP/s = 2 · tokens · in · out / time, up to the printed rounding of both (a stalled
                // GEMM of this size can take milliseconds, so the rate itself may print as 0.00)
                double flops = 2.0 * 64 * Long.parseLong(g.group(2)) * Long.parseLong(g.group(3));
                double ms = Double.parseDouble(g.group(6));
                double gflops = Double.parseDouble(g.group(7));
                assertTrue(ms > 0, line);
                assertTrue(gflops >= flops / ((ms + 0.0005) * 1e6) - 0.005
                        && gflops <= flops / (Math.max(ms - 0.0005, 1e-9) * 1e6) + 0.005, line);
                matrices += Integer.parseInt(g.group(5));
            }
            Matcher s = STEP.matcher(line);
            if (s.find()) {
                double[] v = new double[9];
                for (int i = 0; i < 9; i++) {
                    v[i] = Double.parseDouble(s.group(i + 1));
                }
                steps.add(v);
            }
        }
        // 2 layers × (q, k, v, o, gate, up, down) + the output head; the embedding is a lookup
        assertEquals(2 * 7 + 1, matrices, r.out());
        assertEquals(2, steps.size(), r.out());
        double[] first = steps.get(0);
        assertEquals(1, (int) first[0]);
        double total = first[1];
        double forward = first[2];
        double optimizer = first[4];
        double refresh = first[5];
        assertTrue(forward > 0 && optimizer > 0 && optimizer < total, r.out());
        assertTrue(refresh > 0 && refresh <= optimizer + 1e-4, "step 1 computes every basis inside the optimizer: " + r.out());
        // tokens/s = tokens / total, up to the rounding of total to the printed 4 decimals
        double fastest = 64 / Math.max(total - 0.00005, 1e-9);
        double slowest = 64 / (total + 0.00005);
        assertTrue(first[7] >= slowest - 1 && first[7] <= fastest + 1,
                "tokens/s " + first[7] + " outside [" + slowest + ", " + fastest + "]");
        assertTrue(r.out().contains("median step"), r.out());
        // the last two columns: process CPU and the step thread's CPU, which is part of both the
        // process's and the step's wall time (3 decimals printed; the JVM reads the process's CPU
        // time in clock ticks of 10 ms, so a step of a few ms may show 0.000 for the process)
        for (String line : r.out().split("\\R")) {
            if (STEP.matcher(line).find()) {
                String[] cols = line.trim().split("\\s+");
                double cpu = Double.parseDouble(cols[cols.length - 2]);
                double mainCpu = Double.parseDouble(cols[cols.length - 1]);
                double wall = Double.parseDouble(cols[1]);
                assertTrue(mainCpu > 0 && mainCpu <= cpu + 0.0105 && mainCpu <= wall + 0.001, line);
            }
        }
        assertTrue(r.out().contains("median CPU: "), r.out());
    }

    @Test
    void fullRankAdamwRefreshesNothingAndDecodesNoWeights() {
        Cli.Result r = run(bench("adamw"));
        assertEquals(0, r.code(), r.err());
        for (String line : r.out().split("\\R")) {
            Matcher s = STEP.matcher(line);
            if (s.find()) {
                assertEquals(0.0, Double.parseDouble(s.group(6)), 0.0, "no refresh: " + line);
            }
        }
        assertTrue(r.out().contains("refresh 0.0%"), r.out());
    }

    @Test
    void blasThreadCountsAlternateStepByStepAndTheirRatioIsThePairedMedian() {
        Cli.Result r = run(bench(4, "adamw", "--blas-threads", "1,2"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("GEMM (ND4J BLAS, 1 thread)") && r.out().contains("GEMM (ND4J BLAS, 2 threads)"),
                r.out());
        List<Double> ratios = new ArrayList<>();
        double previous = 0;
        int row = 0;
        for (String line : r.out().split("\\R")) {
            Matcher s = STEP.matcher(line);
            if (s.find()) {
                String[] cols = line.trim().split("\\s+");
                int threads = Integer.parseInt(cols[cols.length - 1]);
                assertEquals(row % 2 == 0 ? 1 : 2, threads, "steps alternate 1, 2, 1, 2: " + line);
                double total = Double.parseDouble(s.group(2));
                if (row % 2 == 1) {
                    ratios.add(total / previous);
                }
                previous = total;
                row++;
            }
        }
        assertEquals(4, row, r.out());
        Matcher m = Pattern.compile("BLAS threads 2 vs 1: step time ratio ([\\d.]+) \\(median over 2 cycles")
                .matcher(r.out());
        assertTrue(m.find(), r.out());
        // the median of two cycle ratios is their mean; the rows are rounded to 4 decimals
        double expected = (ratios.get(0) + ratios.get(1)) / 2;
        assertEquals(expected, Double.parseDouble(m.group(1)), 0.0005 + 0.02 * expected, r.out());
        assertTrue(r.out().contains("BLAS threads 1: median step") && r.out().contains("BLAS threads 2: median step"),
                r.out());
    }

    @Test
    void badInputEndsInOneLineWithExitCode2() {
        for (String[] args : List.of(bench(0, "adamw"), bench("adamw", "--set", "train.nope=1"),
                bench("nope"), bench("adamw", "--blas-threads", "0"), bench(1, "adamw", "--blas-threads", "1,2"))) {
            Cli.Result r = run(args);
            assertEquals(2, r.code(), r.err());
            assertFalse(r.err().strip().contains("\n"), r.err());
        }
    }
}
