package io.galore4j.projection;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The part every refresh policy shares: a gap and the step of the last refresh, and by default a
 * refresh {@code gap} steps after the last one.
 */
abstract class GapPolicy implements RefreshPolicy {
    protected long gap;
    protected long lastRefreshStep = -1;

    GapPolicy(long gap) {
        this.gap = gap;
    }

    @Override
    public boolean due(long step) {
        return lastRefreshStep < 0 || step - lastRefreshStep >= gap;
    }

    @Override
    public final void onRefresh(SubspaceStats stats) {
        lastRefreshStep = stats.step();
        adapt(stats);
    }

    /** Changes the gap after a refresh with these statistics. */
    abstract void adapt(SubspaceStats stats);

    @Override
    public final long gap() {
        return gap;
    }

    @Override
    public final long lastRefreshStep() {
        return lastRefreshStep;
    }

    @Override
    public Map<String, Object> state() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("policy", name());
        s.put("gap", gap);
        s.put("lastRefreshStep", lastRefreshStep);
        return s;
    }

    @Override
    public void restore(Map<String, ?> state) {
        Object name = state.get("policy");
        if (!name().equals(name)) {
            throw new IllegalArgumentException("refresh policy state: policy must be '" + name() + "', got " + name);
        }
        long g = longField(state, "gap");
        if (g < 1) {
            throw new IllegalArgumentException("refresh policy state: gap must be >= 1, got " + g);
        }
        long last = longField(state, "lastRefreshStep");
        if (last < -1) {
            throw new IllegalArgumentException("refresh policy state: lastRefreshStep must be >= -1, got " + last);
        }
        gap = g;
        lastRefreshStep = last;
    }

    static long longField(Map<String, ?> state, String key) {
        if (state.get(key) instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) {
            return n.longValue();
        }
        throw new IllegalArgumentException("refresh policy state: " + key + " must be an integer, got " + state.get(key));
    }
}
