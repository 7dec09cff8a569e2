package io.galore4j.galore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.galore4j.projection.SubspaceStats;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A refresh is transactional: a gradient rejected at a refresh step (NaN or infinity, which the
 * basis computation refuses; or finite values around 1e30, whose basis or projection is not usable)
 * leaves the layer with its old basis (or none, at step 0), its refresh count, policy and solver
 * state as they were; the next good gradient then refreshes and continues exactly as in a twin
 * optimizer that never saw the bad one, bit for bit.
 */
class RefreshFailureTest {
    private static final String PROJ = "model.layers.0.mlp.up_proj.weight";
    private static final int M = 128;
    private static final int N = 384;
    private static final int GAP = 3;

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String method : List.of("galore", "q-galore")) {
            for (String svd : List.of("exact", "randomized")) {
                for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, 1e30f}) {
                    for (int step : new int[] {0, GAP}) {
                        out.add(Arguments.of(method, svd, bad, step, false));
                        if (!Float.isFinite(bad)) { // a huge finite micro-batch is accumulated; its update is rejected
                            out.add(Arguments.of(method, svd, bad, step, true));
                        }
                    }
                }
            }
        }
        return out.stream();
    }

    private static LayerwiseOptimizer build(String method, String svd) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("method", method);
        s.put("rank", 16);
        s.put("refresh_gap", GAP);
        s.put("svd", svd);
        s.put("on_refresh", "rotate");
        LayerwiseOptimizer opt = LayerwiseOptimizer.create(OptimSettings.from(s), 5);
        opt.add(PROJ, TestArrays.matrix(TestArrays.gaussian(new Random(1), M * N, 0.02), M, N));
        return opt;
    }

    private static INDArray good(int k) {
        return TestArrays.matrix(TestArrays.gaussian(new Random(k), M * N, 1e-2), M, N);
    }

    /** Good values; {@code bad} at the last element, or everywhere when it is finite (a huge gradient). */
    private static INDArray bad(float bad) {
        float[] g = TestArrays.gaussian(new Random(99), M * N, 1e-2);
        for (int i = Float.isFinite(bad) ? 0 : g.length - 1; i < g.length; i++) {
            g[i] = Float.isFinite(bad) ? bad * (1 + g[i]) : bad;
        }
        return TestArrays.matrix(g, M, N);
    }

    /** One step: a micro-batch first when {@code micro}, then the final gradient. */
    private static void step(LayerwiseOptimizer opt, int k, boolean micro) {
        if (micro) {
            opt.accumulate(PROJ, good(1000 + k));
        }
        opt.update(PROJ, good(k), 1e-3, micro ? 0.5 : 1.0);
        opt.endStep();
    }

    @ParameterizedTest(name = "{0} {1} {2} at step {3}, micro-batches {4}")
    @MethodSource("cases")
    void aFailedRefreshChangesNothingAndTheNextGradientRefreshesAsIfItNeverHappened(String method, String svd,
            float value, int at, boolean micro) {
        try (LayerwiseOptimizer opt = build(method, svd); LayerwiseOptimizer twin = build(method, svd)) {
            for (int k = 0; k < at; k++) {
                step(opt, k, micro);
                step(twin, k, micro);
            }
            opt.drainRefreshEvents();
            twin.drainRefreshEvents();
            StateSnapshot before = StateSnapshot.of(opt);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
                if (micro) {
                    opt.accumulate(PROJ, bad(value));
                } else {
                    opt.update(PROJ, bad(value), 1e-3, 1.0);
                }
            });
            assertTrue(e.getMessage().contains(PROJ), e.getMessage());
            StateSnapshot.of(opt).assertSameAs(before, "after the rejected gradient");
            assertEquals(at > 0, opt.galore(PROJ).projector().hasBasis(), "the old basis (none at step 0) is kept");
            assertTrue(opt.drainRefreshEvents().isEmpty(), "no refresh was recorded");

            for (int k = at; k < at + GAP + 1; k++) { // the refresh step itself, then up to the next refresh
                step(opt, k, micro);
                step(twin, k, micro);
            }
            StateSnapshot.of(opt).assertSameAs(StateSnapshot.of(twin), "continued after the rejected gradient");
            assertEquals(twin.svdCount(), opt.svdCount());
            List<SubspaceStats> a = opt.drainRefreshEvents();
            List<SubspaceStats> b = twin.drainRefreshEvents();
            assertEquals(2, a.size());
            for (int i = 0; i < a.size(); i++) {
                assertEquals(b.get(i).step(), a.get(i).step());
                assertEquals(b.get(i).overlap(), a.get(i).overlap());
                assertEquals(b.get(i).energy(), a.get(i).energy());
            }
        }
    }
}
