package io.galore4j.experiments.cli;

import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.parallel.DataParallelLauncher;
import io.galore4j.trainer.parallel.ScalingModel;
import io.galore4j.trainer.run.Checkpoints;
import io.galore4j.trainer.run.MetricsLine;
import io.galore4j.trainer.run.RunDirectory;
import io.galore4j.trainer.run.RunJson;
import io.galore4j.trainer.run.Summary;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code galore bench --workers N}: a short data-parallel run of the configured job in a
 * temporary run directory (deleted afterwards), whose metrics give each timed step's time, the
 * part of it spent in the gradient exchange and the bytes exchanged; then the speed-up the
 * scaling model ({@link ScalingModel}) predicts for N machines from the measured compute time and
 * the counted bytes. On one machine the workers share its cores: this measures the exchange's
 * overhead, not a speed-up.
 */
final class WorkersBench {

    /** Latency of one round of a ring all-reduce call between machines, assumed for the model. */
    static final double ROUND_LATENCY_S = 50e-6;
    static final int[] MACHINES = {2, 4, 8, 16, 64};
    static final double[] LINKS_GBIT = {10, 100};

    private WorkersBench() {}

    /** Step times, exchange times and bytes of one timed step. */
    record Step(long step, double totalS, double exchangeS, long bytes) {}

    static void run(ConfigTree settings, int workers, int warmup, int steps, PrintWriter out) throws IOException {
        DataParallelLauncher launcher = DataParallelLauncher.find().orElseThrow(() -> new IllegalArgumentException(
                "bench --workers needs the distributed module on the classpath: build with mvn -Pdistributed"));
        int total = warmup + steps;
        ConfigTree tree = settings.set("train.workers=" + workers).set("train.steps=" + total).set("train.log_every=1")
                .set("train.eval_every=" + total).set("train.eval_batches=1").set("train.ckpt_every=0");
        Path dir = Files.createTempDirectory("galore-bench-workers");
        try {
            try (RunDirectory run = RunDirectory.create(dir, false)) {
                run.writeConfig(tree.toYaml());
            }
            out.printf("bench --workers %d: %d warm-up + %d timed steps of a data-parallel run (separate worker processes;"
                    + " on one machine they share its cores)%n", workers, warmup, steps);
            out.flush();
            Summary summary = launcher.launch(tree, dir, new PrintStream(OutputStream.nullOutputStream()));
            List<Step> timed = timedSteps(dir.resolve(RunDirectory.METRICS), warmup);
            if (timed.isEmpty()) {
                throw new IllegalArgumentException("bench --workers: the run logged no timed step");
            }
            print(out, timed, summary, workers);
        } finally {
            Checkpoints.deleteTree(dir);
        }
    }

    /** The steps after {@code warmup}, each the difference of two consecutive metrics lines. */
    static List<Step> timedSteps(Path metrics, int warmup) throws IOException {
        List<MetricsLine> lines = new ArrayList<>();
        for (String l : Files.readAllLines(metrics)) {
            if (!l.isBlank()) {
                lines.add(RunJson.MAPPER.readValue(l, MetricsLine.class));
            }
        }
        List<Step> steps = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            MetricsLine a = lines.get(i - 1);
            MetricsLine b = lines.get(i);
            if (b.step() <= warmup || b.step() != a.step() + 1 || b.exchangeS() == null || a.exchangeS() == null) {
                continue;
            }
            steps.add(new Step(b.step(), b.elapsedS() - a.elapsedS(), b.exchangeS() - a.exchangeS(),
                    b.exchangeBytes() - a.exchangeBytes()));
        }
        return steps;
    }

    private static void print(PrintWriter out, List<Step> timed, Summary summary, int workers) {
        out.println("step   total s  exchange s  compute s   exchanged bytes");
        for (Step s : timed) {
            out.printf("%4d %9.4f %11.4f %10.4f %17d%n", s.step(), s.totalS(), s.exchangeS(), s.totalS() - s.exchangeS(),
                    s.bytes());
        }
        double total = BenchCommand.median(timed.stream().mapToDouble(Step::totalS).toArray());
        double exchange = BenchCommand.median(timed.stream().mapToDouble(Step::exchangeS).toArray());
        double bytes = BenchCommand.median(timed.stream().mapToDouble(Step::bytes).toArray());
        double compute = total - exchange;
        Summary.Exchange x = summary.exchange();
        double calls = x == null || x.steps() == 0 ? 0 : (double) x.calls() / x.steps();
        out.printf("median step %.4f s: exchange %.4f s (%.1f%%), compute %.4f s; %,.0f bytes per step per worker"
                + " (%s)%n", total, exchange, 100 * exchange / total, compute, bytes,
                x == null ? "" : String.format("full gradients: %,d; over the whole run, refreshes included, the"
                        + " saving was %.1f%%", x.fullGradientBytes() / Math.max(1, x.steps()), 100 * x.saving()));
        if (x != null) {
            out.printf("bytes counted %,d = formula %,d over %d steps: %s%n", x.countedBytes(), x.formulaBytes(), x.steps(),
                    x.countedBytes().equals(x.formulaBytes()) ? "equal" : "DIFFERENT");
        }
        out.printf("%d workers on one machine share its cores: these times are the exchange's overhead, not a speed-up.%n",
                workers);
        out.printf("modelled speed-up on N machines, each computing a step in %.4f s as measured here, ring all-reduce"
                + " of the counted bytes, %.0f µs per round and call (%.1f calls per step), no overlap:%n",
                compute, ROUND_LATENCY_S * 1e6, calls);
        ScalingModel low = new ScalingModel(compute, bytes, calls, ROUND_LATENCY_S);
        ScalingModel full = x == null ? null
                : new ScalingModel(compute, (double) x.fullGradientBytes() / Math.max(1, x.steps()), calls, ROUND_LATENCY_S);
        StringBuilder head = new StringBuilder("  link         ");
        for (int n : MACHINES) {
            head.append(String.format("%8s", "N=" + n));
        }
        out.println(head);
        for (double g : LINKS_GBIT) {
            out.println(row(String.format("  %3.0f Gb/s     ", g), low, g));
            if (full != null) {
                out.println(row("  full grads   ", full, g));
            }
        }
        out.flush();
    }

    private static String row(String label, ScalingModel m, double gbit) {
        StringBuilder r = new StringBuilder(label);
        for (int n : MACHINES) {
            r.append(String.format("%8.2f", m.speedUp(n, gbit)));
        }
        return r.toString();
    }
}
