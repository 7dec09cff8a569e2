package io.galore4j.galore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The exchange hands the collective at most {@value Exchange#CHUNK} floats per call, as
 * {@link ExchangeMemory} counts, and summing in pieces gives the same bits as summing whole
 * (docs/design.md §3.8, §3.9).
 */
class ExchangeMemoryTest {
    static final String EMBED = "model.embed_tokens.weight";
    static final String NORM = "model.norm.weight";

    /** Records the length of every array handed to the replicas. */
    record Recording(Replicas inner, List<Integer> lengths) implements Replicas {
        @Override
        public int rank() {
            return inner.rank();
        }

        @Override
        public int size() {
            return inner.size();
        }

        @Override
        public void sumInPlace(float[] data) {
            lengths.add(data.length);
            inner.sumInPlace(data);
        }
    }

    /** What one replica ended with. */
    record Run(Map<String, float[]> weights, double[] norms, List<Integer> lengths, ExchangeCounts counts) {
    }

    static float[] gradient(int step, int micro, String name, int rank, int n) {
        return TestArrays.gaussian(new Random(((step * 31L + micro) * 131 + name.hashCode()) * 17 + rank), n, 0.01);
    }

    /** 2 replicas, {@code micro} micro-batches per step; null replicas: one process fed the exchanged mean. */
    static Run run(Replicas replicas, Map<String, Object> settings, Map<String, long[]> shapes, int steps, int micro) {
        List<Integer> lengths = new ArrayList<>();
        Replicas rec = replicas == null ? Replicas.SINGLE : new Recording(replicas, lengths);
        try (LayerwiseOptimizer opt = LayerwiseOptimizer.create(OptimSettings.from(settings), ReplicaRuns.SEED, rec)) {
            Random init = new Random(3);
            shapes.forEach((name, shape) -> opt.add(name,
                    ReplicaRuns.array(TestArrays.gaussian(init, (int) ReplicaRuns.length(shape), 0.05), shape)));
            double[] norms = new double[steps];
            for (int t = 0; t < steps; t++) {
                for (Map.Entry<String, long[]> e : shapes.entrySet()) {
                    int n = (int) ReplicaRuns.length(e.getValue());
                    if (replicas == null) { // Σ over ranks of Σ over micro-batches (as each replica sums them), / 2
                        float[] mean = new float[n];
                        for (int r = 0; r < 2; r++) {
                            float[] local = gradient(t, micro - 1, e.getKey(), r, n);
                            for (int k = 0; k < micro - 1; k++) {
                                float[] g = gradient(t, k, e.getKey(), r, n);
                                for (int i = 0; i < n; i++) {
                                    local[i] += g[i];
                                }
                            }
                            for (int i = 0; i < n; i++) {
                                mean[i] += local[i];
                            }
                        }
                        for (int i = 0; i < n; i++) {
                            mean[i] /= 2;
                        }
                        norms[t] += Exchange.squares(mean, 0, n);
                        opt.update(e.getKey(), ReplicaRuns.array(mean, e.getValue()), 0.01, 1.0);
                        continue;
                    }
                    for (int k = 0; k < micro; k++) {
                        INDArray g = ReplicaRuns.array(gradient(t, k, e.getKey(), rec.rank(), n), e.getValue());
                        if (k < micro - 1) {
                            opt.accumulate(e.getKey(), g);
                        } else {
                            opt.update(e.getKey(), g, 0.01, 1.0);
                        }
                    }
                }
                opt.flush();
                if (replicas != null) {
                    norms[t] = opt.exchangedSquaredNorm();
                }
                opt.endStep();
            }
            Map<String, float[]> weights = new LinkedHashMap<>();
            shapes.keySet().forEach(name -> weights.put(name, TestArrays.values(opt.weight(name))));
            return new Run(weights, norms, lengths, opt.exchangeCounts());
        }
    }

    static List<Run> replicas(Map<String, Object> settings, Map<String, long[]> shapes, int steps, int micro)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Run>> futures = new ArrayList<>();
            for (Replicas m : LocalReplicas.members(2, 60_000)) {
                futures.add(pool.submit(() -> run(m, settings, shapes, steps, micro)));
            }
            List<Run> out = new ArrayList<>();
            for (Future<Run> f : futures) {
                out.add(f.get(120, TimeUnit.SECONDS));
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aGradientLargerThanOneCallIsSummedInPiecesToTheSameBits() throws Exception {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put(EMBED, new long[] {1025, 1024}); // more than one piece
        shapes.put(NORM, new long[] {32});
        Map<String, Object> settings = Map.of("method", "adamw");
        List<Run> rs = replicas(settings, shapes, 2, 2);
        Run ref = run(null, settings, shapes, 2, 2);
        for (Run r : rs) {
            for (String name : shapes.keySet()) {
                assertArrayEquals(ref.weights().get(name), r.weights().get(name), name);
            }
            assertArrayEquals(ref.norms(), r.norms(), "‖mean gradient‖², summed piece by piece");
            assertEquals(Exchange.CHUNK, r.lengths().stream().mapToInt(Integer::intValue).max().orElseThrow());
            assertEquals(2 * (1025 * 1024 + 32), r.counts().gradientFloats(), "the same floats, in more calls");
            assertEquals(2 * 3, r.counts().calls(), "per step: two pieces and the bucket");
        }
        ExchangeMemory m = ExchangeMemory.of(OptimSettings.from(settings), shapes);
        assertEquals(Exchange.CHUNK, m.handed());
        assertEquals(2L * Exchange.CHUNK + Chunks.SIZE, m.pieces());
        assertEquals(Exchange.BUCKET + 32, m.bucket());
        assertEquals(3L * (Exchange.CHUNK + 1), m.collective());
        assertEquals(0, m.projected() + m.refresh());
    }

    @Test
    void theNormIsTheMeanGradientsEvenWhenAnInt8UpdateUsesItsBufferAsWorkSpace() throws Exception {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put(EMBED, new long[] {300, 256}); // exchanged alone
        shapes.put("lm_head.weight", new long[] {40, 256}); // bucketed
        Map<String, Object> settings = Map.of("method", "adamw", "weights", "int8");
        List<Run> rs = replicas(settings, shapes, 2, 1);
        Run ref = run(null, settings, shapes, 2, 1);
        for (Run r : rs) {
            assertArrayEquals(ref.norms(), r.norms(), "Σ‖mean gradient‖², not of the new weights");
        }
    }

    @Test
    void theFormulaCountsTheLargestArraysAGaloreRunExchanges() throws Exception {
        Map<String, Object> settings = DataParallelOptimizerTest.settings("galore");
        List<Run> rs = replicas(settings, ReplicaRuns.SHAPES, 3, 1);
        ExchangeMemory m = ExchangeMemory.of(OptimSettings.from(settings), ReplicaRuns.SHAPES);
        long bucketed = 32 + 32 + 40 * 32; // the norms and the head
        long projected = 4 * 48; // R of the 32×48 and 48×32 matrices, side by the shorter dimension
        assertEquals(Exchange.BUCKET + bucketed, m.bucket());
        assertEquals(projected, m.projected());
        for (Run r : rs) {
            List<Integer> seen = r.lengths();
            assertEquals(m.handed(), seen.stream().mapToInt(Integer::intValue).max().orElseThrow(),
                    "the largest array handed over: the embedding's gradient");
            assertEquals(300 * 256, m.handed());
            assertTrue(seen.contains((int) bucketed), "the bucket's copy: " + seen);
            assertTrue(seen.contains((int) projected), "R: " + seen);
            assertTrue(seen.contains(32 * 48), "a refresh's full gradient: " + seen);
            long payload = m.refresh() - 32 * 48;
            assertTrue(seen.contains((int) payload), "the basis broadcast, " + payload + ": " + seen);
            assertTrue(seen.stream().allMatch(n -> n <= payload || n == bucketed || n == projected || n == 32 * 48
                    || n == 300 * 256), "no other arrays: " + seen);
        }
        assertEquals(4 * (m.bucket() + m.pieces() + m.collective() + m.projected() + m.refresh()), m.bytes());
        assertEquals(300 * 256 + Chunks.SIZE, m.pieces());
        assertEquals(3L * (300 * 256 + 1), m.collective());
    }
}
