package io.galore4j.galore;

import io.galore4j.projection.SubspaceStats;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Drives data-parallel optimizers as threads over {@link LocalReplicas}, each replica fed its
 * shard's gradients, and a single-process twin fed their mean (summed in rank order, divided by N,
 * as the replicas compute it), over a small model: an embedding too large to bucket, norms and a
 * head small enough to bucket, and two GaLore matrices (one per side).
 */
final class ReplicaRuns {
    static final String EMBED = "model.embed_tokens.weight";
    static final String Q = "model.layers.0.self_attn.q_proj.weight";
    static final String DOWN = "model.layers.0.mlp.down_proj.weight";
    static final String NORM = "model.norm.weight";
    static final String HEAD = "lm_head.weight";
    static final Map<String, long[]> SHAPES = new LinkedHashMap<>();
    static final long SEED = 11;

    static {
        SHAPES.put(EMBED, new long[] {300, 256});
        SHAPES.put("model.layers.0.input_layernorm.weight", new long[] {32});
        SHAPES.put(Q, new long[] {32, 48});
        SHAPES.put(DOWN, new long[] {48, 32});
        SHAPES.put(NORM, new long[] {32});
        SHAPES.put(HEAD, new long[] {40, 32});
    }

    /** Changes a replica's gradient (a fault), or returns it as it is. */
    interface Fault {
        float[] apply(int rank, int step, int micro, String name, float[] g);
    }

    static final Fault NONE = (rank, step, micro, name, g) -> g;

    /** What one optimizer ends with. */
    record Outcome(StateSnapshot state, long checksum, Map<String, float[]> weights, List<SubspaceStats> events,
            ExchangeCounts counts, List<String> errors, double[] norms, long svds) {
    }

    private ReplicaRuns() {
    }

    static float[] gradient(int step, int micro, String name, int rank) {
        long n = length(SHAPES.get(name));
        Random r = new Random(((step * 31L + micro) * 131 + name.hashCode()) * 17 + rank);
        return TestArrays.gaussian(r, (int) n, 0.01 * (1 + rank));
    }

    static long length(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** N replicas in parallel; their outcomes in rank order. */
    static List<Outcome> replicas(int n, Map<String, Object> settings, int steps, int micro, Fault fault) throws Exception {
        List<Replicas> members = LocalReplicas.members(n, 60_000);
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<Outcome>> futures = new ArrayList<>();
            for (Replicas m : members) {
                futures.add(pool.submit(() -> run(m, settings, steps, micro, (step, k, name) ->
                        fault.apply(m.rank(), step, k, name, gradient(step, k, name, m.rank())))));
            }
            List<Outcome> out = new ArrayList<>();
            for (Future<Outcome> f : futures) {
                out.add(f.get(120, TimeUnit.SECONDS));
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    /** One process fed the mean of the n replicas' gradients. */
    static Outcome reference(int n, Map<String, Object> settings, int steps, int micro) {
        return run(Replicas.SINGLE, settings, steps, micro, (step, k, name) -> {
            float[] sum = gradient(step, k, name, 0);
            for (int r = 1; r < n; r++) {
                float[] g = gradient(step, k, name, r);
                for (int i = 0; i < sum.length; i++) {
                    sum[i] += g[i];
                }
            }
            for (int i = 0; i < sum.length; i++) {
                sum[i] /= n;
            }
            return sum;
        });
    }

    private interface Source {
        float[] gradient(int step, int micro, String name);
    }

    private static Outcome run(Replicas replicas, Map<String, Object> settings, int steps, int micro, Source source) {
        try (LayerwiseOptimizer opt = LayerwiseOptimizer.create(OptimSettings.from(settings), SEED, replicas)) {
            Random init = new Random(3);
            SHAPES.forEach((name, shape) -> opt.add(name, array(TestArrays.gaussian(init, (int) length(shape), 0.05), shape)));
            List<String> errors = new ArrayList<>();
            List<SubspaceStats> events = new ArrayList<>();
            double[] norms = new double[steps];
            for (int t = 0; t < steps; t++) {
                for (int k = 0; k < micro; k++) {
                    for (Map.Entry<String, long[]> e : SHAPES.entrySet()) {
                        INDArray g = array(source.gradient(t, k, e.getKey()), e.getValue());
                        try {
                            if (k < micro - 1) {
                                opt.accumulate(e.getKey(), g);
                            } else {
                                opt.update(e.getKey(), g, 0.01, 1.0);
                            }
                        } catch (IllegalArgumentException x) {
                            errors.add("step " + t + ": " + x.getMessage());
                        }
                    }
                }
                try {
                    opt.flush();
                } catch (IllegalArgumentException x) {
                    errors.add("step " + t + " flush: " + x.getMessage());
                }
                norms[t] = opt.exchangedSquaredNorm();
                events.addAll(opt.drainRefreshEvents());
                opt.endStep();
            }
            Map<String, float[]> weights = new LinkedHashMap<>();
            for (String name : SHAPES.keySet()) {
                weights.put(name, TestArrays.values(opt.weight(name)));
            }
            return new Outcome(StateSnapshot.of(opt), opt.stateChecksum(), weights, events, opt.exchangeCounts(), errors,
                    norms, opt.svdCount());
        }
    }

    static INDArray array(float[] values, long[] shape) {
        return Nd4j.create(values.clone(), shape, 'c');
    }
}
