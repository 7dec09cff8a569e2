package io.galore4j.galore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * A rejected gradient changes nothing: with a NaN or an infinity in the last chunk of a gradient
 * (the chunks before it would be applied first by a chunk-by-chunk update), the update throws
 * naming the parameter, and the optimizer's whole saved state (weight codes or values, moments,
 * bases, step counts, refresh-policy and solver state, the stochastic-rounding generator) is the
 * same bit for bit as before; the next good gradient then gives the same state as in a twin
 * optimizer that never saw the bad one. Every update path: full-rank AdamW, SGD and Lion with
 * fp32, INT8 and split weights and every state codec (ranged, rank-1 and stochastic ones), GaLore
 * and Q-GaLore, and micro-batch accumulation.
 */
class RejectedGradientTest {
    /** Full rank in every method; 12 chunks, run in parallel (see {@link #build}). */
    private static final String HEAD = "lm_head.weight";
    private static final long[] HEAD_SHAPE = {96, 512};
    /** GaLore in the galore methods (rank 16: R is 16×384, large enough for quantized states). */
    private static final String PROJ = "model.layers.0.self_attn.q_proj.weight";
    private static final long[] PROJ_SHAPE = {128, 384};

    /** Method presets with overrides (key=value after the colon). */
    private static final List<String> CASES = List.of("adamw", "adamw8bit", "adamw4bit", "solo", "sgd", "lion",
            "flash-adamw", "flash-sgd", "flash-lion", "adamw8bit:weights=int8", "sgd:weights=int8",
            "lion:weights=int8,m_codec=dynamic8", "adamw:weights=split", "adamw:m_codec=signed3,v_codec=log3",
            "galore", "q-galore", "q-galore:on_refresh=rotate", "galore:m_codec=de4,v_codec=linear4nz-rank1",
            "q-galore:m_codec=signed2,v_codec=log2", "flash-adamw:projection=.*q_proj.weight,rank=16");

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String c : CASES) {
            for (String param : List.of(HEAD, PROJ)) {
                for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY}) {
                    out.add(Arguments.of(c, param, bad));
                }
            }
        }
        return out.stream();
    }

    private static LayerwiseOptimizer build(String spec) {
        String[] parts = spec.split(":", 2);
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("method", parts[0]);
        s.put("rank", 16);
        s.put("refresh_gap", 3);
        if (parts.length > 1) {
            for (String kv : parts[1].split(",")) {
                String[] e = kv.split("=", 2);
                s.put(e[0], e[1]);
            }
        }
        LayerwiseOptimizer opt = LayerwiseOptimizer.create(OptimSettings.from(s), 11);
        opt.kernel().parallelMinElements(1 << 14); // chunks in parallel where the codecs allow it
        Random init = new Random(3);
        opt.add(HEAD, matrix(TestArrays.gaussian(init, size(HEAD_SHAPE), 0.02), HEAD_SHAPE));
        opt.add(PROJ, matrix(TestArrays.gaussian(init, size(PROJ_SHAPE), 0.02), PROJ_SHAPE));
        return opt;
    }

    private static int size(long[] shape) {
        return (int) (shape[0] * shape[1]);
    }

    private static INDArray matrix(float[] values, long[] shape) {
        return TestArrays.matrix(values, shape[0], shape[1]);
    }

    private static long[] shape(String name) {
        return name.equals(HEAD) ? HEAD_SHAPE : PROJ_SHAPE;
    }

    /** The good gradient of {@code name} number {@code k} (the same in every optimizer). */
    private static INDArray good(String name, int k) {
        long[] sh = shape(name);
        return matrix(TestArrays.gaussian(new Random(100 * k + name.length()), size(sh), 1e-2), sh);
    }

    /** A good gradient with {@code bad} at its last element (in the last chunk of the update). */
    private static INDArray bad(String name, float bad) {
        long[] sh = shape(name);
        float[] g = TestArrays.gaussian(new Random(7), size(sh), 1e-2);
        g[g.length - 1] = bad;
        return matrix(g, sh);
    }

    /** Full steps 0 .. k−1 of both parameters. */
    private static void steps(LayerwiseOptimizer opt, int k) {
        for (int t = 0; t < k; t++) {
            opt.update(HEAD, good(HEAD, t), 1e-3, 1.0);
            opt.update(PROJ, good(PROJ, t), 1e-3, 1.0);
            opt.endStep();
        }
    }

    private static void assertNamed(IllegalArgumentException e, String name) {
        assertTrue(e.getMessage() != null && e.getMessage().contains(name), e.getMessage());
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void aRejectedUpdateChangesNothing(String spec, String name, float value) {
        try (LayerwiseOptimizer opt = build(spec); LayerwiseOptimizer twin = build(spec)) {
            steps(opt, 2);
            steps(twin, 2);
            StateSnapshot before = StateSnapshot.of(opt);
            long svds = opt.svdCount();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> opt.update(name, bad(name, value), 1e-3, 1.0));
            assertNamed(e, name);
            StateSnapshot.of(opt).assertSameAs(before, spec + " after a rejected update of " + name);
            assertEquals(svds, opt.svdCount());

            for (LayerwiseOptimizer o : List.of(opt, twin)) { // step 2 with good gradients, then a refresh step
                o.update(HEAD, good(HEAD, 50), 1e-3, 1.0);
                o.update(PROJ, good(PROJ, 50), 1e-3, 1.0);
                o.endStep();
                steps(o, 1);
            }
            StateSnapshot.of(opt).assertSameAs(StateSnapshot.of(twin), spec + ": continued after the rejected update");
            assertEquals(twin.svdCount(), opt.svdCount());
        }
    }

    /**
     * With micro-batches: a bad non-final micro-batch, and a bad final one after a good one, are
     * rejected without touching the accumulated sum or anything else (the step goes on with good
     * micro-batches and ends as in a twin that never saw the bad ones).
     */
    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void aRejectedMicroBatchChangesNothing(String spec, String name, float value) {
        try (LayerwiseOptimizer opt = build(spec); LayerwiseOptimizer twin = build(spec)) {
            steps(opt, 2);
            steps(twin, 2);
            for (LayerwiseOptimizer o : List.of(opt, twin)) {
                o.accumulate(HEAD, good(HEAD, 60));
                o.accumulate(PROJ, good(PROJ, 60));
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> opt.accumulate(name, bad(name, value)));
            assertNamed(e, name);
            e = assertThrows(IllegalArgumentException.class, () -> opt.update(name, bad(name, value), 1e-3, 0.5));
            assertNamed(e, name);
            for (LayerwiseOptimizer o : List.of(opt, twin)) {
                o.update(HEAD, good(HEAD, 61), 1e-3, 0.5);
                o.update(PROJ, good(PROJ, 61), 1e-3, 0.5);
                o.endStep();
            }
            StateSnapshot.of(opt).assertSameAs(StateSnapshot.of(twin), spec + ": accumulation after rejected micro-batches");
        }
    }
}
