package io.galore4j.projection;

import java.util.Map;

/**
 * A variant of Q-GaLore's lazy refresh ({@link LazyRefresh} is the paper's rule as its reference
 * implementation runs it): at each refresh take c = |cos| between the old and the new first
 * singular vector ({@link SubspaceStats#cosine}) and keep the last {@code window} values (5);
 * when {@code window} values are kept and their mean is ≥ {@code threshold} (0.4), the subspace
 * is deemed converged and the gap doubles (up to {@code maxGap}). The gap never shrinks.
 *
 * <p>It differs from {@code lazy} in three ways: it averages |cos|, not the signed cosine; after
 * a doubling the window is <b>cleared</b>, so the next doubling needs {@code window} fresh
 * cosines measured under the new gap (the reference keeps its queue, so one full window of high
 * cosines doubles the gap at every following refresh); and the next refresh comes {@code gap}
 * steps after the last one, not at the next multiple of the gap. The first refresh has no
 * previous vector and adds nothing. Gap sequence with window 5, all cosines ≥ threshold, gap 10:
 * refreshes at steps 0, 10, 20, 30, 40, 50 (5th cosine: gap → 20), 70, 90, 110, 130, 150 (→ 40), 190, …
 */
final class LazyResetRefresh extends GapPolicy {
    private final double threshold;
    private final long maxGap;
    private final CosineWindow cosines;

    LazyResetRefresh(long gap, int window, double threshold, long maxGap) {
        super(gap);
        if (maxGap < gap) {
            throw new IllegalArgumentException("lazy-reset refresh policy: maxGap must be >= gap (" + gap + "), got "
                    + maxGap);
        }
        this.threshold = threshold;
        this.maxGap = maxGap;
        this.cosines = new CosineWindow(window);
    }

    @Override
    public String name() {
        return "lazy-reset";
    }

    @Override
    void adapt(SubspaceStats stats) {
        if (Double.isNaN(stats.cosine())) {
            return;
        }
        cosines.add(Math.abs(stats.cosine()));
        if (cosines.full() && cosines.mean() >= threshold) {
            gap = Math.min(maxGap, 2 * gap);
            cosines.clear();
        }
    }

    @Override
    public Map<String, Object> state() {
        Map<String, Object> s = super.state();
        s.put("cosines", cosines.toList());
        return s;
    }

    @Override
    public void restore(Map<String, ?> state) {
        // |cos| of INT4-decoded bases, which earlier versions measured, could exceed 1 a little
        var values = cosines.checked(state.get("cosines"), "lazy-reset refresh policy state: cosines", 0,
                Double.MAX_VALUE);
        super.restore(state);
        cosines.set(values);
    }
}
