package io.galore4j.projection;

/**
 * An overlap-driven gap that grows and shrinks (this project's policy, docs/design.md §3): with
 * o = ‖P_oldᵀ P_new‖²_F / r measured at a refresh,
 * <pre>
 *   o ≥ highOverlap  →  gap = min(maxGap, round(gap · growth))   (the subspace is stable: refresh less)
 *   o &lt; lowOverlap   →  gap = max(minGap, round(gap / growth))   (it moved: refresh more)
 *   otherwise         →  gap unchanged
 * </pre>
 * The first refresh (no old basis) leaves the gap unchanged.
 */
final class AdaptiveRefresh extends GapPolicy {
    private final long minGap;
    private final long maxGap;
    private final double growth;
    private final double highOverlap;
    private final double lowOverlap;

    AdaptiveRefresh(long gap, long minGap, long maxGap, double growth, double highOverlap, double lowOverlap) {
        super(gap);
        if (minGap > gap || gap > maxGap) {
            throw new IllegalArgumentException("adaptive refresh policy: need minGap <= gap <= maxGap, got minGap="
                    + minGap + " gap=" + gap + " maxGap=" + maxGap);
        }
        if (!(growth > 1)) {
            throw new IllegalArgumentException("adaptive refresh policy: growth must be > 1, got " + growth);
        }
        if (lowOverlap > highOverlap) {
            throw new IllegalArgumentException("adaptive refresh policy: lowOverlap (" + lowOverlap
                    + ") must be <= highOverlap (" + highOverlap + ")");
        }
        this.minGap = minGap;
        this.maxGap = maxGap;
        this.growth = growth;
        this.highOverlap = highOverlap;
        this.lowOverlap = lowOverlap;
    }

    @Override
    public String name() {
        return "adaptive";
    }

    @Override
    public long leastGap() {
        return minGap;
    }

    @Override
    public void restore(java.util.Map<String, ?> state) {
        long g = longField(state, "gap");
        if (g < minGap || g > maxGap) {
            throw new IllegalArgumentException("adaptive refresh policy state: gap must be in [" + minGap + ", "
                    + maxGap + "], got " + g);
        }
        super.restore(state);
    }

    @Override
    void adapt(SubspaceStats stats) {
        double o = stats.overlap();
        if (Double.isNaN(o)) {
            return;
        }
        if (o >= highOverlap) {
            gap = Math.min(maxGap, Math.round(gap * growth));
        } else if (o < lowOverlap) {
            gap = Math.max(minGap, Math.round(gap / growth));
        }
    }
}
