package io.galore4j.galore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ShortBuffer;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A saved and restored optimizer continues exactly: after save at step k and load into a fresh
 * optimizer (other initial values), the next steps give bit-identical weights, generator states
 * and refresh events to an optimizer that never stopped.
 */
class OptimizerStateTest {

    private static final int M = 64;
    private static final int N = 96;
    private static final int STEPS = 8;
    private static final int SAVE_AT = 5;

    private static OptimSettings settings(String method) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("method", method);
        if (method.contains("galore")) {
            s.put("projection", "w");
            s.put("rank", 8);
            s.put("refresh_gap", 2); // refreshes before and after the save
            s.put("svd", method.equals("galore") ? "randomized" : "exact");
        }
        return OptimSettings.from(s);
    }

    private static LayerwiseOptimizer build(String method, Random init) {
        LayerwiseOptimizer opt = LayerwiseOptimizer.create(settings(method), 7);
        opt.add("w", TestArrays.matrix(TestArrays.gaussian(init, M * N, 0.5), M, N));
        // a vector larger than one state block, and larger than the quantization threshold
        opt.add("b", TestArrays.matrix(TestArrays.gaussian(init, 4 * 1024 + 5, 0.5), 1, 4 * 1024 + 5));
        return opt;
    }

    private static void step(LayerwiseOptimizer opt, int step) {
        Random g = new Random(1000 + step); // the same gradients for both optimizers
        opt.update("w", TestArrays.matrix(TestArrays.gaussian(g, M * N, 1.0), M, N), 1e-2, 1.0);
        opt.update("b", TestArrays.matrix(TestArrays.gaussian(g, 4 * 1024 + 5, 1.0), 1, 4 * 1024 + 5), 1e-2, 1.0);
        opt.endStep();
    }

    @ParameterizedTest
    @ValueSource(strings = {"adamw", "adamw8bit", "adamw4bit", "solo", "lion", "galore", "q-galore", "flash-adamw",
            "flash-lion", "flash-sgd"})
    void aRestoredOptimizerContinuesBitForBit(String method) {
        try (LayerwiseOptimizer straight = build(method, new Random(1));
                LayerwiseOptimizer first = build(method, new Random(1));
                LayerwiseOptimizer resumed = build(method, new Random(99))) {
            for (int t = 0; t < STEPS; t++) {
                step(straight, t);
            }
            for (int t = 0; t < SAVE_AT; t++) {
                step(first, t);
            }
            Map<String, Buffer> views = new LinkedHashMap<>();
            Map<String, Object> json = first.saveState(views::put);
            Map<String, Buffer> saved = StateSnapshot.copy(views);
            Set<String> used = resumed.loadState(json, saved::get);
            assertEquals(saved.keySet(), used, "every saved tensor is read back");
            assertEquals(SAVE_AT, resumed.step());
            assertArrayEquals(TestArrays.values(first.weight("w")), TestArrays.values(resumed.weight("w")));
            first.drainRefreshEvents();
            straight.drainRefreshEvents();
            for (int t = SAVE_AT; t < STEPS; t++) {
                step(resumed, t);
            }
            assertArrayEquals(TestArrays.values(straight.weight("w")), TestArrays.values(resumed.weight("w")), method);
            assertArrayEquals(TestArrays.values(straight.weight("b")), TestArrays.values(resumed.weight("b")), method);
            assertArrayEquals(straight.rngState(), resumed.rngState());
            assertEquals(straight.svdCount(), resumed.svdCount());
            if (method.contains("galore")) {
                assertTrue(resumed.svdCount() > 0 && !resumed.drainRefreshEvents().isEmpty(), "refreshed after the load");
            }
        }
    }

    @Test
    void aStateOfOtherSettingsOrShapesIsRefusedNamingTheParameter() {
        try (LayerwiseOptimizer a = build("q-galore", new Random(1)); LayerwiseOptimizer b = build("adamw", new Random(1))) {
            step(a, 0);
            Map<String, Buffer> views = new LinkedHashMap<>();
            Map<String, Object> json = a.saveState(views::put);
            Map<String, Buffer> saved = StateSnapshot.copy(views);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.loadState(json, saved::get));
            assertTrue(e.getMessage().contains("parameter w") && e.getMessage().contains("int8"), e.getMessage());

            Map<String, Buffer> truncated = new HashMap<>(saved);
            truncated.put("b/m.codes", ByteBuffer.allocate(3)); // b's moments are dynamic8 codes
            try (LayerwiseOptimizer c = build("q-galore", new Random(2))) {
                e = assertThrows(IllegalArgumentException.class, () -> c.loadState(json, truncated::get));
                assertTrue(e.getMessage().contains("parameter b"), e.getMessage());
            }
            Map<String, Buffer> missing = new HashMap<>(saved);
            missing.remove("w/weight.codes");
            try (LayerwiseOptimizer c = build("q-galore", new Random(2))) {
                e = assertThrows(IllegalArgumentException.class, () -> c.loadState(json, missing::get));
                assertTrue(e.getMessage().contains("w/weight.codes") && e.getMessage().contains("missing"), e.getMessage());
            }
        }
    }

    /**
     * States written before the current lazy rule: an INT4 basis without its fp32 first vector
     * loads (the decoded first row stands in); a {@code lazy} policy state of the earlier rule (a
     * {@code cosines} window, now {@code lazy-reset}) is refused in one line naming the parameter.
     */
    @Test
    void qGaloreStatesOfEarlierVersions() {
        try (LayerwiseOptimizer a = build("q-galore", new Random(1))) {
            step(a, 0);
            Map<String, Buffer> views = new LinkedHashMap<>();
            Map<String, Object> json = a.saveState(views::put);
            Map<String, Buffer> saved = StateSnapshot.copy(views);
            assertTrue(saved.containsKey("w/basis.first_vector"), saved.keySet().toString());
            saved.remove("w/basis.first_vector");
            try (LayerwiseOptimizer c = build("q-galore", new Random(2))) {
                assertEquals(saved.keySet(), c.loadState(json, saved::get));
                step(c, 1);
                step(c, 2);
                var events = c.drainRefreshEvents();
                assertEquals(1, events.size(), "w refreshes at step 2 (lazy, gap 2)");
                double cosine = events.get(0).cosine();
                assertTrue(cosine > -1.01 && cosine < 1.01, "measured against the decoded first row: " + cosine);
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> params = new HashMap<>((Map<String, Object>) json.get("params"));
            @SuppressWarnings("unchecked")
            Map<String, Object> w = new HashMap<>((Map<String, Object>) params.get("w"));
            @SuppressWarnings("unchecked")
            Map<String, Object> projector = new HashMap<>((Map<String, Object>) w.get("projector"));
            @SuppressWarnings("unchecked")
            Map<String, Object> policy = new HashMap<>((Map<String, Object>) projector.get("policy"));
            policy.put("cosines", policy.remove("queue"));
            projector.put("policy", policy);
            w.put("projector", projector);
            params.put("w", w);
            Map<String, Object> old = new HashMap<>(json);
            old.put("params", params);
            try (LayerwiseOptimizer c = build("q-galore", new Random(2))) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.loadState(old, saved::get));
                assertTrue(e.getMessage().startsWith("parameter w: layer w: refresh policy state: saved by the earlier 'lazy'")
                        && e.getMessage().contains("lazy-reset") && !e.getMessage().contains("\n"), e.getMessage());
            }
        }
    }

    @Test
    void aSplitWeightStateOfOtherStorageOrWithANonFiniteHighPartIsRefused() {
        try (LayerwiseOptimizer a = build("flash-adamw", new Random(1)); LayerwiseOptimizer b = build("adamw8bit", new Random(1));
                LayerwiseOptimizer c = build("flash-adamw", new Random(2))) {
            step(a, 0);
            Map<String, Buffer> views = new LinkedHashMap<>();
            Map<String, Object> json = a.saveState(views::put);
            Map<String, Buffer> saved = StateSnapshot.copy(views);
            assertTrue(saved.get("w/weight.high") instanceof ShortBuffer && saved.get("w/weight.correction") instanceof ByteBuffer,
                    saved.keySet().toString());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.loadState(json, saved::get));
            assertTrue(e.getMessage().contains("parameter w") && e.getMessage().contains("weights is split"), e.getMessage());

            short[] high = new short[M * N];
            ((ShortBuffer) saved.get("w/weight.high")).duplicate().get(high);
            high[17] = (short) 0x7F80; // +infinity
            Map<String, Buffer> corrupt = new HashMap<>(saved);
            corrupt.put("w/weight.high", ShortBuffer.wrap(high));
            e = assertThrows(IllegalArgumentException.class, () -> c.loadState(json, corrupt::get));
            assertEquals("parameter w: weight: high part 17 is not a finite bfloat16 (bits 0x7f80)", e.getMessage());
        }
    }
}
