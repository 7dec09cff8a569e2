package io.galore4j.trainer.parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.galore4j.galore.LocalReplicas;
import io.galore4j.galore.Replicas;
import io.galore4j.trainer.TrainJob;
import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.run.RunDirectory;
import io.galore4j.trainer.run.RunJson;
import io.galore4j.trainer.run.Summary;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data-parallel training against the single process it must equal (docs/design.md §3.9): two
 * replicas as threads of this JVM ({@link LocalReplicas}), each with half the batch, against one
 * process with the whole batch, on a one-layer model.
 */
class ReplicaRunTest {

    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    @TempDir
    static Path tmp;

    private static Path corpus;

    @BeforeAll
    static void corpus() throws IOException {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 400; i++) {
            text.append("line ").append(i).append(": the quick brown fox jumps over the lazy dog ").append(i * 7919 % 1000)
                    .append('\n');
        }
        corpus = Files.writeString(tmp.resolve("corpus.txt"), text);
    }

    private static ConfigTree tree(int batch, String... more) {
        ConfigTree t = ConfigTree.defaults();
        for (String s : List.of("data.path=" + corpus, "model.hidden=32", "model.layers=1", "model.heads=2",
                "model.intermediate=48", "model.seq_len=16", "train.batch_size=" + batch, "train.eval_batches=2",
                "train.steps=12", "train.warmup=2", "train.eval_every=6", "train.log_every=1", "train.ckpt_every=6",
                "train.check_every=1", "train.blas_threads=1")) {
            t = t.set(s);
        }
        for (String s : more) {
            t = t.set(s);
        }
        return t;
    }

    private static Path single(String name, ConfigTree tree) throws IOException {
        Path dir = tmp.resolve(name);
        TrainJob job = TrainJob.resolve(tree);
        try (RunDirectory run = RunDirectory.create(dir, false)) {
            job.run(run, QUIET);
        }
        return dir;
    }

    /** Runs {@code n} replicas of {@code tree} in a new run directory; returns every replica's summary. */
    static List<Summary> replicas(Path dir, ConfigTree settings, int n) throws Exception {
        ConfigTree tree = settings.set("train.workers=" + n);
        try (RunDirectory run = RunDirectory.create(dir, false)) {
            run.writeConfig(tree.toYaml());
        }
        String yaml = tree.toYaml();
        List<Replicas> members = LocalReplicas.members(n, 60_000);
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<Summary>> f = new ArrayList<>();
            for (Replicas r : members) {
                f.add(pool.submit(() -> ReplicaRun.run(yaml, dir, r, QUIET)));
            }
            List<Summary> out = new ArrayList<>();
            for (Future<Summary> s : f) {
                out.add(s.get());
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    private static List<double[]> losses(Path dir) throws IOException {
        List<double[]> rows = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve(RunDirectory.METRICS))) {
            JsonNode n = RunJson.MAPPER.readTree(line);
            rows.add(new double[] {n.get("step").asDouble(), n.get("loss").asDouble(),
                n.has("val_loss") ? n.get("val_loss").asDouble() : Double.NaN});
        }
        return rows;
    }

    /** Two replicas with batch B/2 each against one process with batch B: every logged loss within {@code tol} relative. */
    private static List<Summary> equivalent(String name, double tol, String... settings) throws Exception {
        Path one = single(name + "-1", tree(8, settings));
        Path two = tmp.resolve(name + "-2");
        List<Summary> summaries = replicas(two, tree(4, settings), 2);
        List<double[]> a = losses(one);
        List<double[]> b = losses(two);
        assertEquals(a.size(), b.size(), "metric lines");
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i)[0], b.get(i)[0], "step of line " + i);
            for (int k = 1; k < 3; k++) {
                double x = a.get(i)[k];
                double y = b.get(i)[k];
                if (Double.isNaN(x)) {
                    assertTrue(Double.isNaN(y), "line " + i);
                } else {
                    assertEquals(x, y, tol * Math.abs(x), name + ": step " + a.get(i)[0] + (k == 1 ? " loss" : " val_loss"));
                }
            }
        }
        assertTrue(Files.isRegularFile(two.resolve("model.safetensors")));
        assertTrue(Files.isRegularFile(two.resolve(RunDirectory.SUMMARY)));
        return summaries;
    }

    @Test
    void adamwEqualsOneProcessWithTheWholeBatch() throws Exception {
        List<Summary> s = equivalent("adamw", 1e-5, "optim.method=adamw");
        Summary.Exchange x = s.get(0).exchange();
        assertNotNull(x);
        assertEquals(2, x.workers());
        assertEquals(x.formulaBytes(), x.countedBytes(), "bytes counted against the formula");
        assertEquals(x.fullGradientBytes(), x.countedBytes(), "adamw exchanges every full gradient");
        Summary.Exchange y = s.get(1).exchange();
        assertEquals(x.countedBytes(), y.countedBytes(), "both workers exchanged the same");
        assertEquals(x.calls(), y.calls());
        assertEquals(x.controlBytes(), y.controlBytes());
    }

    @Test
    void galoreEqualsOneProcessWithTheWholeBatch() throws Exception {
        // clipping off: the data-parallel norm is that of the exchanged (projected) gradient (design §3.9)
        List<Summary> s = equivalent("galore", 1e-5, "optim.method=galore", "optim.rank=8", "optim.refresh_gap=4",
                "train.grad_clip=0");
        Summary.Exchange x = s.get(0).exchange();
        assertEquals(x.formulaBytes(), x.countedBytes(), "bytes counted against the formula");
        assertTrue(x.countedBytes() < x.fullGradientBytes(), "projected gradients are smaller");
        assertTrue(x.basisBytes() > 0 && x.refreshGradientBytes() > 0, "refreshes broadcast their bases");
    }

    @Test
    void qgaloreReplicasStayBitIdentical() throws Exception {
        // train.check_every=1: a step after which the replicas' weights and states differ stops the run
        Path two = tmp.resolve("qgalore-2");
        List<Summary> s = replicas(two, tree(4, "optim.method=q-galore", "optim.rank=8"), 2);
        assertEquals(12L, s.get(0).steps());
        assertEquals(s.get(0).valLoss(), s.get(1).valLoss());
        Summary.Exchange x = s.get(0).exchange();
        assertEquals(x.formulaBytes(), x.countedBytes(), "bytes counted against the formula");
        Path one = single("qgalore-1", tree(8, "optim.method=q-galore", "optim.rank=8"));
        List<double[]> a = losses(one);
        List<double[]> b = losses(two);
        double last = a.get(a.size() - 1)[2];
        assertEquals(last, b.get(b.size() - 1)[2], 0.05 * last, "val_loss within seed noise of one process's");
    }

    /**
     * A replica whose gradient sums (arrays of more than 100 floats) are off by a little from call
     * {@code from} on: its weights drift from the others' (here from step 2's exchange).
     */
    private static Replicas drifting(Replicas r, int from) {
        return new Replicas() {
            private int calls;

            @Override
            public int rank() {
                return r.rank();
            }

            @Override
            public int size() {
                return r.size();
            }

            @Override
            public void sumInPlace(float[] data) {
                r.sumInPlace(data);
                if (++calls >= from && data.length > 100) {
                    data[0] += 1e-3f;
                }
            }
        };
    }

    @Test
    void replicasThatDriftApartStopTheRunWithOneLine() throws Exception {
        Path dir = tmp.resolve("drift");
        ConfigTree tree = tree(4, "optim.method=adamw", "train.workers=2", "train.check_every=2");
        try (RunDirectory run = RunDirectory.create(dir, false)) {
            run.writeConfig(tree.toYaml());
        }
        String yaml = tree.toYaml();
        List<Replicas> members = LocalReplicas.members(2, 60_000);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<Summary> a = pool.submit(() -> ReplicaRun.run(yaml, dir, members.get(0), QUIET));
            Future<Summary> b = pool.submit(() -> ReplicaRun.run(yaml, dir, drifting(members.get(1), 3), QUIET));
            for (Future<Summary> f : List.of(a, b)) {
                java.util.concurrent.ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(
                        java.util.concurrent.ExecutionException.class, f::get);
                assertTrue(e.getCause() instanceof IllegalArgumentException, e.getCause().toString());
                assertEquals("training stopped at step 2: the 2 workers' weights and optimizer states differ (the replica "
                        + "check of train.check_every); the run cannot continue consistently: resume it from its last "
                        + "checkpoint", e.getCause().getMessage());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aRunResumesWithAnotherNumberOfWorkers() throws Exception {
        Path dir = tmp.resolve("resume-n");
        replicas(dir, tree(4, "optim.method=q-galore", "optim.rank=8", "train.steps=6"), 2);
        List<double[]> before = losses(dir);
        // continue to step 12 with one worker (a ReplicaRun of one replica is the single-process loop)
        ConfigTree one = tree(4, "optim.method=q-galore", "optim.rank=8", "train.workers=1");
        Summary s = ReplicaRun.run(one.toYaml(), dir, Replicas.SINGLE, QUIET);
        assertEquals(12L, s.steps());
        assertEquals(6L, s.resumedFromStep());
        List<double[]> after = losses(dir);
        assertEquals(12, after.size(), "one line per step, the first six kept");
        for (int i = 0; i < before.size(); i++) {
            assertEquals(before.get(i)[1], after.get(i)[1]);
        }
        assertEquals(null, s.exchange(), "one worker exchanges nothing");
    }
}
