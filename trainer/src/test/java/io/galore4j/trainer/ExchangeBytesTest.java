package io.galore4j.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.galore4j.galore.OptimSettings;
import io.galore4j.projection.Projector;
import io.galore4j.projection.ProjectorConfig;
import io.galore4j.projection.RefreshPolicy;
import io.galore4j.projection.Side;
import io.galore4j.trainer.model.LlamaParameters;
import io.galore4j.trainer.model.ModelConfig;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import io.galore4j.galore.ExchangeCounts;
import io.galore4j.galore.LayerwiseOptimizer;
import io.galore4j.galore.LocalReplicas;
import io.galore4j.galore.Replicas;
import java.util.ArrayList;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The per-step exchange of data-parallel training, checked against hand arithmetic and a live projector. */
class ExchangeBytesTest {

    // a tiny model: vocab 24, hidden 16, intermediate 40, 2 blocks; rank 4
    private static final long V = 24;
    private static final long H = 16;
    private static final long I = 40;
    private static final long L = 2;
    private static final long R = 4;
    private static final ModelConfig TINY = ModelConfig.standard((int) H, (int) L, 2, (int) I, (int) V, 8);

    private static ExchangeBytes exchange(Object... keyValues) {
        Map<String, Object> optim = new HashMap<>(Map.of("method", "galore", "rank", (int) R, "refresh_gap", 10));
        for (int k = 0; k < keyValues.length; k += 2) {
            optim.put((String) keyValues[k], keyValues[k + 1]);
        }
        return ExchangeBytes.of(OptimSettings.from(optim), LlamaParameters.shapes(TINY));
    }

    /** Floats of a candidate's header and singular values (max(r, 8) of them) at rank 4. */
    private static final long HEAD = 18 + 8;

    /** Floats of an INT4 r×d basis in a payload: code bytes three per float, a scale and zero point per 256 codes, the first vector. */
    private static long int4(long d) {
        long codes = R * d;
        return ((codes + 1) / 2 + 2) / 3 + 2 * ((codes + 255) / 256) + d;
    }

    // every parameter: embedding and head V×H, 2L+1 norms of H; per block q,k,v,o H×H, gate and up I×H, down H×I
    private static final long UNPROJECTED = 2 * V * H + (2 * L + 1) * H;
    private static final long PROJECTED = L * (4 * H * H + 3 * I * H);
    private static final long FULL = UNPROJECTED + PROJECTED;

    @Test
    void leftSideExchangesRTimesNPerMatrixAndFp32BasesOfTheRowSpace() {
        ExchangeBytes x = exchange("side", "left", "refresh", "fixed");
        assertEquals(FULL, x.fullFloats());
        // R = Pᵀ G is r×n: q,k,v,o and gate, up have n = H; down has n = I
        assertEquals(UNPROJECTED + L * (6 * R * H + R * I), x.stepFloats());
        assertEquals(7 * L, x.refreshes().size());
        // each refresh sums the full gradient and broadcasts the candidate, whose fp32 basis spans
        // the m side: H for q,k,v,o and down, I for gate and up
        long refresh = 4 * (PROJECTED + 7 * L * HEAD + L * R * (5 * H + 2 * I));
        assertEquals(refresh, x.refreshBytes());
        assertEquals(refresh / 10.0, x.refreshBytesPerStep(), 1e-9);
        assertTrue(x.refreshExact());
        double perStep = 4.0 * (UNPROJECTED + L * (6 * R * H + R * I)) + refresh / 10.0;
        assertEquals(perStep, x.lowRankBytesPerStep(), 1e-9);
        assertEquals(1 - perStep / (4.0 * FULL), x.saving(), 1e-12);
    }

    @Test
    void rightSideExchangesMTimesRPerMatrixAndInt4BasesOfTheColumnSpace() {
        ExchangeBytes x = exchange("side", "right", "basis_bits", 4, "refresh", "fixed");
        // R = G P is m×r: m = H for q,k,v,o and down, I for gate and up
        assertEquals(UNPROJECTED + L * (5 * H * R + 2 * I * R), x.stepFloats());
        // the basis spans the n side: H for q,k,v,o, gate and up; I for down; INT4
        long refresh = 4 * (PROJECTED + 7 * L * HEAD + L * (6 * int4(H) + int4(I)));
        assertEquals(refresh, x.refreshBytes());
        assertEquals(1 - (4.0 * x.stepFloats() + refresh / 10.0) / (4.0 * FULL), x.saving(), 1e-12);
    }

    @Test
    void theDefaultSideKeepsRAtRankTimesTheLargerDimension() {
        ExchangeBytes x = exchange("basis_bits", 4, "refresh", "fixed");
        assertEquals(UNPROJECTED + L * (4 * R * H + 3 * R * I), x.stepFloats());
        // std: right for m ≥ n (gate, up: basis over n = H, q..o: H), left for m < n (down: basis over m = H)
        assertEquals(4 * (PROJECTED + L * 7 * (HEAD + int4(H))), x.refreshBytes());
    }

    @Test
    void aLayerTheSettingsKeepFullRankExchangesItsFullGradient() {
        Map<String, Object> down = new LinkedHashMap<>();
        down.put("match", ".*down_proj.*");
        down.put("full_rank", true);
        ExchangeBytes x = exchange("side", "left", "layers", List.of(down));
        assertEquals(UNPROJECTED + L * (6 * R * H + H * I), x.stepFloats());
        assertEquals(6 * L, x.refreshes().size());
    }

    @Test
    void growingPoliciesGiveAnUpperBoundAtTheirSmallestGap() {
        ExchangeBytes lazy = exchange("side", "left", "refresh", "lazy");
        assertFalse(lazy.refreshExact());
        assertEquals(lazy.refreshBytes() / 10.0, lazy.refreshBytesPerStep(), 1e-9);
        ExchangeBytes adaptive = exchange("side", "left", "refresh", "adaptive", "min_gap", 5);
        assertFalse(adaptive.refreshExact());
        assertEquals(adaptive.refreshBytes() / 5.0, adaptive.refreshBytesPerStep(), 1e-9);
    }

    @Test
    void theFormulaCountsWhatALiveProjectorProducesAndStores() {
        Nd4j.getRandom().setSeed(7);
        for (long[] shape : new long[][] {{12, 20}, {20, 12}}) {
            for (Side side : List.of(Side.LEFT, Side.RIGHT, Side.STD)) {
                for (int bits : new int[] {32, 4}) {
                    Map<String, long[]> one = Map.of("model.layers.0.self_attn.q_proj.weight", shape);
                    ExchangeBytes.Refresh f = ExchangeBytes.of(OptimSettings.from(Map.of("method", "galore",
                            "rank", (int) R, "side", side.toString(), "basis_bits", bits)), one).refreshes().get(0);
                    ProjectorConfig c = ProjectorConfig.of((int) R).withSide(side);
                    Projector p = new Projector("q", shape[0], shape[1], new ProjectorConfig(c.rank(), c.scale(),
                            side, c.basisMethod(), c.oversampling(), c.powerIterations(), c.seed(), bits),
                            RefreshPolicy.fixed(10));
                    INDArray grad = Nd4j.rand(DataType.FLOAT, shape[0], shape[1]);
                    p.refresh(0, grad);
                    String what = side + " " + shape[0] + "×" + shape[1] + " bits " + bits;
                    assertEquals(p.project(grad).length(), f.projected(), what);
                    assertEquals(p.payloadFloats(), f.payload(), what);
                    assertEquals(shape[0] * shape[1], f.gradient(), what);
                }
            }
        }
    }

    /** Two replicas of the tiny model for {@code steps} steps; what replica 1 counted. */
    private static ExchangeCounts exchanged(OptimSettings settings, Map<String, long[]> shapes, int steps) throws Exception {
        List<Replicas> members = LocalReplicas.members(2, 60_000);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<ExchangeCounts>> fs = new ArrayList<>();
            for (Replicas m : members) {
                fs.add(pool.submit(() -> {
                    Random rnd = new Random(m.rank());
                    try (LayerwiseOptimizer opt = LayerwiseOptimizer.create(settings, 3, m)) {
                        shapes.forEach((name, shape) -> opt.add(name, Nd4j.rand(DataType.FLOAT, shape).subi(0.5)));
                        for (int t = 0; t < steps; t++) {
                            for (Map.Entry<String, long[]> e : shapes.entrySet()) {
                                float[] g = new float[(int) ExchangeBytesTest.length(e.getValue())];
                                for (int i = 0; i < g.length; i++) {
                                    g[i] = (float) rnd.nextGaussian();
                                }
                                opt.update(e.getKey(), Nd4j.create(g, e.getValue(), 'c'), 1e-3, 1);
                            }
                            opt.flush();
                            opt.endStep();
                        }
                        return opt.exchangeCounts();
                    }
                }));
            }
            fs.get(0).get(120, TimeUnit.SECONDS);
            return fs.get(1).get(120, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
    }

    private static long length(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    @ParameterizedTest
    @CsvSource({"galore", "q-galore", "apollo", "apollo-mini", "fira"})
    void theFormulaCountsWhatTheOptimizerSends(String method) throws Exception {
        OptimSettings settings = OptimSettings.from(Map.of("method", method, "rank", (int) R, "refresh", "fixed",
                "refresh_gap", 2));
        Map<String, long[]> shapes = LlamaParameters.shapes(TINY);
        ExchangeBytes x = ExchangeBytes.of(settings, shapes);
        int steps = 4; // refreshes at steps 0 and 2
        ExchangeCounts c = exchanged(settings, shapes, steps);
        assertEquals(steps * x.stepFloats(), c.gradientFloats() + c.projectedFloats());
        boolean whole = method.startsWith("apollo") || method.equals("fira"); // full gradients, no R
        assertEquals(steps * (whole ? x.fullFloats() : UNPROJECTED), c.gradientFloats());
        assertEquals(whole, c.projectedFloats() == 0);
        assertEquals(method.startsWith("apollo"), x.refreshes().isEmpty(), "APOLLO has no basis to send");
        assertEquals(whole ? 0 : 2 * x.refreshes().stream().mapToLong(ExchangeBytes.Refresh::gradient).sum(),
                c.refreshGradientFloats(), "Fira's refresh needs no second full gradient");
        assertEquals(2 * x.refreshBytes(), ExchangeBytes.GRADIENT_BYTES * (c.refreshGradientFloats() + c.basisFloats()));
        assertEquals(steps * x.lowRankBytesPerStep(), ExchangeBytes.GRADIENT_BYTES * (double) c.floats(), 1e-6);
    }
}
