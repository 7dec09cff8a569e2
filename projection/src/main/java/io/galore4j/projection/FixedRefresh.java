package io.galore4j.projection;

/** GaLore's schedule: a new basis every {@code gap} steps, whatever the statistics say. */
final class FixedRefresh extends GapPolicy {
    FixedRefresh(long gap) {
        super(gap);
    }

    @Override
    public String name() {
        return "fixed";
    }

    @Override
    void adapt(SubspaceStats stats) {
        // the gap never changes
    }
}
