package io.galore4j.galore;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.galore4j.projection.SubspaceStats;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The steps at which the optimizer refreshes a basis under each lazy rule. The policy is asked at
 * step t = the parameter's updates before this one (0 at its first gradient), which is the
 * Q-GaLore reference's {@code iter}. The same gradient every step gives the same basis, so every
 * cosine is 1. With gap 2: {@code lazy} refreshes at 0, 2, …, 10 (the 5th cosine doubles the gap to
 * 4), then, its queue staying full and high, doubles at every refresh, each at the next multiple of
 * the new gap: 12 (→ 8), 16 (→ 16), 32 (→ 32); {@code lazy-reset} clears its window after each
 * doubling and counts from the last refresh: 10 (→ 4), 14, 18, 22, 26, 30 (→ 8), 38.
 */
class LazyRefreshStepsTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource({"lazy, 0 2 4 6 8 10 12 16 32", "lazy-reset, 0 2 4 6 8 10 14 18 22 26 30 38"})
    void refreshStepsFollowTheRule(String rule, String steps) {
        int m = 12;
        int n = 8;
        float[] g = TestArrays.gaussian(new Random(3), m * n, 1.0);
        OptimSettings s = OptimSettings.from(Map.of("method", "galore", "projection", "w", "rank", 3, "svd", "exact",
                "refresh", rule, "refresh_gap", 2));
        List<Long> refreshed = new ArrayList<>();
        try (LayerwiseOptimizer opt = LayerwiseOptimizer.create(s, 1)) {
            opt.add("w", TestArrays.matrix(TestArrays.gaussian(new Random(4), m * n, 0.02), m, n));
            for (int t = 0; t < 40; t++) {
                opt.update("w", TestArrays.matrix(g, m, n), 1e-3, 1.0);
                opt.endStep();
                for (SubspaceStats e : opt.drainRefreshEvents()) {
                    refreshed.add(e.step());
                }
            }
        }
        assertEquals(Arrays.stream(steps.split(" ")).map(Long::valueOf).toList(), refreshed);
    }
}
