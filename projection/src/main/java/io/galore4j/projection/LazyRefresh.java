package io.galore4j.projection;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;

/**
 * Q-GaLore's lazy layer-wise subspace exploration (Zhang et al. 2024, §3.3): at each refresh
 * take c = |cos| between the old and the new first singular vector and keep the last
 * {@code window} values (5); when {@code window} values are kept and their mean is ≥
 * {@code threshold} (0.4), the subspace is deemed converged and the gap doubles (up to
 * {@code maxGap}). The gap never shrinks.
 *
 * <p>Precisely: the first refresh has no previous vector and adds nothing. After a doubling the
 * window is <b>cleared</b>, so the next doubling needs {@code window} fresh cosines measured
 * under the new gap (without clearing, one old window would double the gap at every following
 * refresh). Gap sequence with window 5, all cosines ≥ threshold, gap 10: refreshes at steps 0,
 * 10, 20, 30, 40, 50 (5th cosine: gap → 20), 70, 90, 110, 130, 150 (→ 40), 190, …
 */
final class LazyRefresh extends GapPolicy {
    private final int window;
    private final double threshold;
    private final long maxGap;
    private final Deque<Double> cosines = new ArrayDeque<>();

    LazyRefresh(long gap, int window, double threshold, long maxGap) {
        super(gap);
        if (maxGap < gap) {
            throw new IllegalArgumentException("lazy refresh policy: maxGap must be >= gap (" + gap + "), got " + maxGap);
        }
        this.window = window;
        this.threshold = threshold;
        this.maxGap = maxGap;
    }

    @Override
    public String name() {
        return "lazy";
    }

    @Override
    void adapt(SubspaceStats stats) {
        if (Double.isNaN(stats.cosine())) {
            return;
        }
        if (cosines.size() == window) {
            cosines.removeFirst();
        }
        cosines.addLast(Math.abs(stats.cosine()));
        if (cosines.size() == window) {
            double mean = cosines.stream().mapToDouble(Double::doubleValue).sum() / window;
            if (mean >= threshold) {
                gap = Math.min(maxGap, 2 * gap);
                cosines.clear();
            }
        }
    }

    @Override
    public Map<String, Object> state() {
        Map<String, Object> s = super.state();
        s.put("cosines", new ArrayList<>(cosines));
        return s;
    }

    @Override
    public void restore(Map<String, ?> state) {
        if (!(state.get("cosines") instanceof List<?> list) || list.size() > window) {
            throw new IllegalArgumentException("lazy refresh policy state: cosines must be a list of at most "
                    + window + " numbers, got " + state.get("cosines"));
        }
        List<Double> values = new ArrayList<>();
        for (Object o : list) {
            // |cos| of INT4-stored bases can exceed 1 slightly (their vectors are not exactly unit length)
            if (!(o instanceof Number n) || !(n.doubleValue() >= 0) || Double.isInfinite(n.doubleValue())) {
                throw new IllegalArgumentException("lazy refresh policy state: cosines must be finite numbers >= 0, got " + o);
            }
            values.add(n.doubleValue());
        }
        super.restore(state);
        cosines.clear();
        cosines.addAll(values);
    }
}
