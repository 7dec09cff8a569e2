package io.galore4j.trainer;

import io.galore4j.galore.ExchangeCounts;
import io.galore4j.galore.LayerwiseOptimizer;
import io.galore4j.projection.SubspaceStats;
import io.galore4j.trainer.run.Summary;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * summary.json's {@code exchange} of a data-parallel run (docs/run-files.md): the bytes this
 * replica put into the collective, counted where the optimizer made the calls, beside the bytes
 * {@link ExchangeBytes}' formula gives for the same steps and refreshes, and beside exchanging
 * every full gradient.
 */
final class ExchangeReport {

    private final ExchangeBytes formula;
    private final long startStep;
    private final Map<String, Long> refreshes = new HashMap<>();

    ExchangeReport(ExchangeBytes formula, long startStep) {
        this.formula = formula;
        this.startStep = startStep;
    }

    /** Counts the refreshes of a step (each one's refresh traffic is in the formula). */
    void refreshed(Collection<SubspaceStats> events) {
        for (SubspaceStats e : events) {
            refreshes.merge(e.layer(), 1L, Long::sum);
        }
    }

    /** Every gradient byte of {@code c}: gradients, projected gradients, refresh gradients and bases. */
    static long bytes(ExchangeCounts c) {
        return ExchangeBytes.GRADIENT_BYTES * c.floats();
    }

    /** The exchange of this process's steps, {@code startStep} to {@code step}. */
    Summary.Exchange report(LayerwiseOptimizer opt, ReplicaSync sync, long step) {
        ExchangeCounts c = opt.exchangeCounts();
        long steps = step - startStep;
        long b = ExchangeBytes.GRADIENT_BYTES;
        long counted = bytes(c);
        long expected = formula.stepBytes() * steps;
        for (ExchangeBytes.Refresh r : formula.refreshes()) {
            expected += refreshes.getOrDefault(r.name(), 0L) * r.bytes();
        }
        long full = formula.fullBytes() * steps;
        return new Summary.Exchange(sync.size(), steps, b * c.gradientFloats(), b * c.projectedFloats(), b * c.refreshGradientFloats(),
                b * c.basisFloats(), counted, expected, full, full == 0 ? null : 1 - (double) counted / full, c.calls(),
                b * sync.controlFloats(), sync.controlCalls(), c.nanos() / 1e9);
    }
}
