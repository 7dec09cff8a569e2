package io.galore4j.projection;

import java.util.Map;

/**
 * When a layer recomputes its basis. One instance per layer; it is told about every refresh and
 * may change its gap from the statistics. Step numbers are the optimizer's; the first call of
 * {@link #due} is always true.
 *
 * <p>Names and parameters ({@link #of}); unknown names or keys and bad values are rejected with
 * an {@link IllegalArgumentException} naming the field:
 * <ul>
 *   <li>{@code fixed}: {@code gap} (200). Refresh every {@code gap} steps (GaLore's T).</li>
 *   <li>{@code lazy}: {@code gap} (200), {@code window} (5), {@code threshold} (0.4). Q-GaLore's
 *       lazy layer-wise refresh as its reference implementation runs it: refresh at multiples of
 *       the gap; double the gap whenever the mean of the last 5 signed first-vector cosines is
 *       ≥ 0.4, the queue never cleared. See {@link LazyRefresh}.</li>
 *   <li>{@code lazy-reset}: {@code gap} (200), {@code window} (5), {@code threshold} (0.4),
 *       {@code maxGap} (2³¹−1). This project's variant: |cos|, the window cleared after each
 *       doubling, the gap counted from the last refresh, bounded. See {@link LazyResetRefresh}.</li>
 *   <li>{@code adaptive}: {@code gap} (200), {@code minGap} (50, or the gap if smaller),
 *       {@code maxGap} (2000, or the gap if larger),
 *       {@code growth} (2), {@code highOverlap} (0.6), {@code lowOverlap} (0.4). Overlap-driven,
 *       grows and shrinks: see {@link AdaptiveRefresh} and docs/design.md §3.3. The thresholds sit
 *       inside the range the overlaps of consecutive bases take on the micro model, so the gap
 *       can move both ways (docs/benchmarks.md, the comparison of methods).</li>
 * </ul>
 */
public interface RefreshPolicy {

    /** fixed, lazy, lazy-reset or adaptive. */
    String name();

    /**
     * Whether the basis must be recomputed at this step: never refreshed yet, or {@code gap()}
     * steps since the last ({@code lazy}: the step is a multiple of {@code gap()}).
     */
    boolean due(long step);

    /** Records a refresh at {@code stats.step()} and adapts the gap to its statistics. */
    void onRefresh(SubspaceStats stats);

    /** The current number of steps between refreshes. */
    long gap();

    /**
     * The smallest gap this policy can reach from its current state: {@link #gap()} for the
     * policies whose gap never shrinks (fixed, lazy, lazy-reset); adaptive's {@code minGap}.
     */
    default long leastGap() {
        return gap();
    }

    /** The step of the last refresh, −1 if none. */
    long lastRefreshStep();

    /** Everything needed to continue the sequence exactly (plain numbers and lists, JSON-friendly). */
    Map<String, Object> state();

    /** Restores a {@link #state()} of a policy with the same name. */
    void restore(Map<String, ?> state);

    /** Creates a policy by name with the given parameters (absent keys take their defaults). */
    static RefreshPolicy of(String name, Map<String, ?> params) {
        RefreshKind kind = io.galore4j.quant.EnumKeys.find(java.util.List.of(RefreshKind.values()), name);
        if (kind == null) {
            throw new IllegalArgumentException(
                    "refresh policy: unknown name '" + name + "' (expected fixed, lazy, lazy-reset or adaptive)");
        }
        return of(kind, params);
    }

    /** Creates a policy of {@code kind} with the given parameters (absent keys take their defaults). */
    static RefreshPolicy of(RefreshKind kind, Map<String, ?> params) {
        PolicyParams p = new PolicyParams(io.galore4j.quant.EnumKeys.key(kind), params == null ? Map.of() : params);
        RefreshPolicy policy = switch (kind) {
            case FIXED -> new FixedRefresh(p.positiveLong("gap", 200));
            case LAZY -> new LazyRefresh(p.positiveLong("gap", 200), (int) p.positiveLong("window", 5),
                    p.unitInterval("threshold", 0.4));
            case LAZY_RESET -> new LazyResetRefresh(p.positiveLong("gap", 200), (int) p.positiveLong("window", 5),
                    p.unitInterval("threshold", 0.4), p.positiveLong("maxGap", Integer.MAX_VALUE));
            case ADAPTIVE -> {
                long gap = p.positiveLong("gap", 200);
                yield new AdaptiveRefresh(gap, p.positiveLong("minGap", Math.min(50, gap)),
                        p.positiveLong("maxGap", Math.max(2000, gap)), p.real("growth", 2.0),
                        p.unitInterval("highOverlap", 0.6), p.unitInterval("lowOverlap", 0.4));
            }
        };
        p.rejectUnread();
        return policy;
    }

    /** A fixed gap with default parameters otherwise. */
    static RefreshPolicy fixed(long gap) {
        return of("fixed", Map.of("gap", gap));
    }
}
