package io.galore4j.projection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RefreshPolicyTest {

    /** Steps through [from, to), refreshing when due with the next scripted (cosine, overlap); returns the refresh steps. */
    private static List<Long> run(RefreshPolicy p, long from, long to, double[] cosines, double[] overlaps, int[] next) {
        List<Long> steps = new ArrayList<>();
        for (long step = from; step < to; step++) {
            if (p.due(step)) {
                int i = next[0]++;
                p.onRefresh(new SubspaceStats(step, "w", 4, cosines[i], overlaps[i], 1, new double[0], p.gap(), 1));
                steps.add(step);
            }
        }
        return steps;
    }

    private static double[] repeat(double v, int n, boolean firstNaN) {
        double[] a = new double[n];
        java.util.Arrays.fill(a, v);
        if (firstNaN) {
            a[0] = Double.NaN;
        }
        return a;
    }

    @Test
    void fixedRefreshesEveryGapSteps() {
        RefreshPolicy p = RefreshPolicy.of("fixed", Map.of("gap", 10));
        double[] any = repeat(0.99, 20, true);
        assertEquals(List.of(0L, 10L, 20L, 30L, 40L), run(p, 0, 50, any, any, new int[1]));
        assertEquals(10, p.gap());
    }

    @Test
    void lazyResetDoublesTheGapAfterFiveHighCosinesAndClearsItsWindow() {
        RefreshPolicy p = RefreshPolicy.of("lazy-reset", Map.of("gap", 10));
        double[] cos = repeat(0.5, 30, true);
        assertEquals(List.of(0L, 10L, 20L, 30L, 40L, 50L, 70L, 90L, 110L, 130L, 150L, 190L, 230L),
                run(p, 0, 240, cos, cos, new int[1]));
        assertEquals(40, p.gap());
    }

    @Test
    void lazyResetKeepsTheGapWhileTheMeanOfTheLastFiveIsBelowTheThreshold() {
        RefreshPolicy p = RefreshPolicy.of("lazy-reset", Map.of("gap", 10, "threshold", 0.4));
        double[] cos = {Double.NaN, 0.9, 0.9, 0.1, 0.1, 0.2, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.9, 0.9, 0.9};
        List<Long> steps = run(p, 0, 271, cos, cos, new int[1]);
        // refresh 0..5 at gap 10 (5th cosine 0.2: mean (.9+.9+.1+.1+.2)/5 = .44 → gap 20, window cleared)
        // refreshes 6..10 add .3 ×5 (mean .3, gap stays 20), 11 adds .3 (window .3×5), 12 adds .9: (.3×4 + .9)/5 = .42 → gap 40
        assertEquals(List.of(0L, 10L, 20L, 30L, 40L, 50L, 70L, 90L, 110L, 130L, 150L, 170L, 190L, 230L, 270L),
                steps);
        assertEquals(40, p.gap());
    }

    /**
     * A test-only transcription of Q-GaLore's reference projector's refresh logic (its
     * {@code project(grad, iter)}, control flow only): refresh when no basis exists or
     * {@code iter % update_proj_gap == 0}; from the second basis on, append the cosine to the queue
     * (after {@code pop(0)} when it holds {@code queue_size}); when it is full and
     * {@code sum(queue) / queue_size >= cos_threshold}, {@code update_proj_gap =
     * int(update_proj_gap * gamma_proj)}. Its optimizer calls {@code project} with the parameter's
     * {@code state["step"]} before {@code update_step} increments it: 0, 1, 2, …
     */
    private static final class ReferenceProjector {
        long updateProjGap;
        final int queueSize = 5;
        final double cosThreshold = 0.4;
        final double gammaProj = 2;
        boolean hasOrthoMatrix;
        boolean hasPastVector;
        final List<Double> queue = new ArrayList<>();

        ReferenceProjector(long gap) {
            updateProjGap = gap;
        }

        /** Whether {@code project} at this iter computes a new basis, whose cosine with the last is {@code cosine}. */
        boolean project(long iter, double cosine) {
            if (!hasOrthoMatrix || iter % updateProjGap == 0) {
                if (hasPastVector) {
                    if (queue.size() == queueSize) {
                        queue.remove(0);
                    }
                    queue.add(cosine);
                    double sum = 0;
                    for (double c : queue) {
                        sum += c;
                    }
                    if (queue.size() == queueSize && sum / queueSize >= cosThreshold) {
                        updateProjGap = (long) (updateProjGap * gammaProj);
                    }
                }
                hasPastVector = true;
                hasOrthoMatrix = true;
                return true;
            }
            return false;
        }
    }

    /**
     * {@code lazy}, driven as the optimizer drives it (due(t) with t = the parameter's updates
     * before this one, then onRefresh with that step's statistics), refreshes at the same steps as
     * the reference transcription over 3000 steps, on a recorded sequence of signed cosines whose
     * window means cross 0.4 both ways; {@code lazy-reset} does not.
     */
    @Test
    void lazyRefreshesWhereTheReferenceDoes() {
        double[] cos = new double[3001];
        java.util.SplittableRandom rng = new java.util.SplittableRandom(11);
        for (int i = 0; i < cos.length; i++) {            // of every 40 refreshes, 37 low (some negative), 3 high
            double centre = i % 40 >= 37 ? 0.85 : 0.15;
            cos[i] = Math.max(-1, Math.min(1, centre + 0.4 * rng.nextGaussian()));
        }
        ReferenceProjector reference = new ReferenceProjector(10);
        List<Long> expected = new ArrayList<>();
        int used = 0;
        for (long iter = 0; iter < 3000; iter++) {
            if (reference.project(iter, cos[used])) {
                used++;
                expected.add(iter);
            }
        }
        RefreshPolicy lazy = RefreshPolicy.of("lazy", Map.of("gap", 10));
        double[] signal = cos.clone();                        // the first refresh has no previous vector
        signal[0] = Double.NaN;
        List<Long> got = run(lazy, 0, 3000, signal, signal, new int[1]);
        assertEquals(expected, got);
        assertEquals(reference.updateProjGap, lazy.gap());
        long negative = java.util.Arrays.stream(cos, 0, used).filter(c -> c < 0).count();
        System.out.printf("reference rule: %d refreshes, final gap %d, %d negative cosines%n", got.size(), lazy.gap(), negative);
        assertTrue(got.size() >= 30 && lazy.gap() >= 640 && negative >= 5, "the sequence exercises the rule");
        RefreshPolicy reset = RefreshPolicy.of("lazy-reset", Map.of("gap", 10));
        assertTrue(!expected.equals(run(reset, 0, 3000, signal, signal, new int[1])), "lazy-reset differs");
    }

    @Test
    void lazyRefusesTheStateOfTheRuleItNamedBefore() {
        RefreshPolicy lazy = RefreshPolicy.of("lazy", Map.of());
        Map<String, Object> old = Map.of("policy", "lazy", "gap", 400L, "lastRefreshStep", 600L, "cosines", List.of(0.5, 0.7));
        assertMessage("lazy-reset", () -> lazy.restore(old));
        assertEquals(200, lazy.gap());
    }

    @Test
    void adaptiveGrowsAndShrinksWithinItsBounds() {
        RefreshPolicy p = RefreshPolicy.of("adaptive",
                Map.of("gap", 100, "minGap", 25, "maxGap", 400, "growth", 2, "highOverlap", 0.9, "lowOverlap", 0.6));
        double[] overlaps = {Double.NaN, 0.95, 0.95, 0.95, 0.7, 0.5, 0.5, 0.5, 0.5, 0.95};
        List<Long> gaps = new ArrayList<>();
        for (double o : overlaps) {
            p.onRefresh(new SubspaceStats(0, "w", 4, o, o, 1, new double[0], p.gap(), 1));
            gaps.add(p.gap());
        }
        assertEquals(List.of(100L, 200L, 400L, 400L, 400L, 200L, 100L, 50L, 25L, 50L), gaps);
    }

    @Test
    void restoringSavedStateMidSequenceContinuesTheSameSequence() {
        Map<String, Map<String, Object>> params = Map.of(
                "fixed", Map.of("gap", 7),
                "lazy", Map.of("gap", 10, "window", 3, "threshold", 0.5),
                "lazy-reset", Map.of("gap", 10, "window", 3, "threshold", 0.5),
                "adaptive", Map.of("gap", 16, "minGap", 4, "maxGap", 64, "highOverlap", 0.8, "lowOverlap", 0.4));
        double[] signal = new double[200];
        java.util.SplittableRandom rng = new java.util.SplittableRandom(3);
        for (int i = 0; i < signal.length; i++) {
            signal[i] = i == 0 ? Double.NaN : rng.nextDouble();
        }
        for (String name : List.of("fixed", "lazy", "lazy-reset", "adaptive")) {
            RefreshPolicy straight = RefreshPolicy.of(name, params.get(name));
            List<Long> expected = run(straight, 0, 600, signal, signal, new int[1]);

            RefreshPolicy first = RefreshPolicy.of(name, params.get(name));
            int[] next = new int[1];
            List<Long> got = new ArrayList<>(run(first, 0, 250, signal, signal, next));
            Map<String, Object> saved = first.state();
            RefreshPolicy resumed = RefreshPolicy.of(name, params.get(name));
            resumed.restore(saved);
            got.addAll(run(resumed, 250, 600, signal, signal, next));
            assertEquals(expected, got, name);
            assertTrue(expected.size() > 8, name + " made too few refreshes to test anything");
        }
    }

    @Test
    void badNamesAndParametersAreRejectedNamingTheField() {
        assertMessage("unknown name", () -> RefreshPolicy.of("sometimes", Map.of()));
        assertMessage("gap", () -> RefreshPolicy.of("fixed", Map.of("gap", 0)));
        assertMessage("gap", () -> RefreshPolicy.of("fixed", Map.of("gap", 2.5)));
        assertMessage("gap", () -> RefreshPolicy.of("fixed", Map.of("gap", "often")));
        assertMessage("[gpa]", () -> RefreshPolicy.of("fixed", Map.of("gpa", 10)));
        assertMessage("threshold", () -> RefreshPolicy.of("lazy", Map.of("threshold", 1.5)));
        assertMessage("threshold", () -> RefreshPolicy.of("lazy-reset", Map.of("threshold", 1.5)));
        assertMessage("maxGap", () -> RefreshPolicy.of("lazy-reset", Map.of("gap", 100, "maxGap", 50)));
        assertMessage("[maxGap]", () -> RefreshPolicy.of("lazy", Map.of("maxGap", 400))); // the reference has no bound
        assertMessage("growth", () -> RefreshPolicy.of("adaptive", Map.of("growth", 1)));
        assertMessage("minGap", () -> RefreshPolicy.of("adaptive", Map.of("gap", 10, "minGap", 20)));
        // unset, the bounds take in the starting gap: min(50, gap) and max(2000, gap)
        assertEquals(10, RefreshPolicy.of("adaptive", Map.of("gap", 10)).gap());
        assertEquals(5000, RefreshPolicy.of("adaptive", Map.of("gap", 5000)).gap());
        assertMessage("lowOverlap", () -> RefreshPolicy.of("adaptive", Map.of("lowOverlap", 0.95)));
        RefreshPolicy reset = RefreshPolicy.of("lazy-reset", Map.of());
        assertMessage("policy", () -> reset.restore(RefreshPolicy.of("fixed", Map.of()).state()));
        assertMessage("policy", () -> reset.restore(RefreshPolicy.of("lazy", Map.of()).state()));
        Map<String, Object> s = new java.util.HashMap<>(reset.state());
        s.put("cosines", List.of(0.1, -0.5));
        assertMessage("cosines", () -> reset.restore(s));
        // |cos| between INT4-stored bases, as measured before, can exceed 1 a little (1.0152 in a q-galore run)
        s.put("cosines", List.of(0.3, 1.0152));
        reset.restore(s);
        assertEquals(List.of(0.3, 1.0152), reset.state().get("cosines"));
        RefreshPolicy lazy = RefreshPolicy.of("lazy", Map.of());
        assertMessage("policy", () -> lazy.restore(reset.state()));
        Map<String, Object> q = new java.util.HashMap<>(lazy.state());
        q.put("queue", List.of(0.3, -0.5, 1.0));  // signed
        lazy.restore(q);
        assertEquals(List.of(0.3, -0.5, 1.0), lazy.state().get("queue"));
        q.put("queue", List.of(0.3, 1.5));
        assertMessage("queue", () -> lazy.restore(q));
        q.put("queue", List.of(0.1, 0.2, 0.3, 0.4, 0.5, 0.6));
        assertMessage("at most 5", () -> lazy.restore(q));
        assertEquals(List.of(0.3, -0.5, 1.0), lazy.state().get("queue"), "a refused state changes nothing");
        RefreshPolicy adaptive = RefreshPolicy.of("adaptive", Map.of("gap", 100, "minGap", 25, "maxGap", 400));
        Map<String, Object> big = new java.util.HashMap<>(adaptive.state());
        big.put("gap", 800L);
        assertMessage("gap", () -> adaptive.restore(big));
    }

    private static void assertMessage(String part, org.junit.jupiter.api.function.Executable e) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        assertTrue(ex.getMessage().contains(part), "message '" + ex.getMessage() + "' should name " + part);
    }
}
