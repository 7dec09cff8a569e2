package io.galore4j.projection;

import java.util.Map;

/**
 * Q-GaLore's lazy layer-wise subspace exploration (Zhang et al. 2024, §3.3) exactly as its
 * reference implementation runs it, with t the parameter's updates before this one (0 at its
 * first gradient: the reference's per-parameter step count, read before its update increments it;
 * here the optimizer's step number {@link #due} receives):
 * <ul>
 *   <li>the basis is recomputed when the layer has none yet or when t is a multiple of the gap;</li>
 *   <li>from the second basis on, the signed cosine between the previous and the new first singular
 *       vector ({@link SubspaceStats#cosine}: both fp32, as computed) joins a queue of at most
 *       {@code window} (5) values, the oldest leaving when it is full;</li>
 *   <li>whenever the queue is full and its mean is ≥ {@code threshold} (0.4), the gap doubles.
 *       The queue is never cleared, so while its mean stays high, every refresh doubles the gap
 *       again. The gap never shrinks and has no bound.</li>
 * </ul>
 * Gap sequence with window 5, all cosines ≥ threshold, gap 10: refreshes at steps 0, 10, 20, 30,
 * 40, 50 (5th cosine: gap → 20), 60 (→ 40), 80 (→ 80), 160 (→ 160), 320, … The reference's signs
 * are whatever its SVD returns; here {@link SignConvention} makes each new basis point like the
 * previous one, so the cosine is ≥ 0 in practice. {@link LazyResetRefresh} is this project's
 * earlier variant.
 */
final class LazyRefresh extends GapPolicy {
    private final double threshold;
    private final CosineWindow queue;

    LazyRefresh(long gap, int window, double threshold) {
        super(gap);
        this.threshold = threshold;
        this.queue = new CosineWindow(window);
    }

    @Override
    public String name() {
        return "lazy";
    }

    @Override
    public boolean due(long step) {
        return lastRefreshStep < 0 || step % gap == 0;
    }

    @Override
    void adapt(SubspaceStats stats) {
        if (Double.isNaN(stats.cosine())) {
            return;
        }
        queue.add(stats.cosine());
        if (queue.full() && queue.mean() >= threshold) {
            gap = Math.min(2 * gap, Long.MAX_VALUE / 4);
        }
    }

    @Override
    public Map<String, Object> state() {
        Map<String, Object> s = super.state();
        s.put("queue", queue.toList());
        return s;
    }

    /**
     * Also refuses the state of the rule {@code lazy} named before it followed the reference (a
     * {@code cosines} window, now {@link LazyResetRefresh}'s): a resumed run must not change rule.
     */
    @Override
    public void restore(Map<String, ?> state) {
        if (state.containsKey("cosines") && !state.containsKey("queue")) {
            throw new IllegalArgumentException("refresh policy state: saved by the earlier 'lazy' rule (now "
                    + "'lazy-reset': |cos|, window cleared after each doubling), not by the reference rule "
                    + "'lazy' now names; such a run cannot continue under 'lazy'");
        }
        var values = queue.checked(state.get("queue"), "lazy refresh policy state: queue", -1 - 1e-6, 1 + 1e-6);
        super.restore(state);
        queue.set(values);
    }
}
