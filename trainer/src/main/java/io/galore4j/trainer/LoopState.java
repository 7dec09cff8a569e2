package io.galore4j.trainer;

import io.galore4j.galore.LayerwiseOptimizer;
import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.config.RunConfig;
import io.galore4j.trainer.data.CorpusFingerprint;
import io.galore4j.trainer.data.TrainingBatches;
import io.galore4j.trainer.run.Checkpoints;
import io.galore4j.trainer.run.TrainerState;
import java.util.List;

/**
 * A training loop's own state between steps, in named fields: for a gradient run what a
 * checkpoint saves besides the optimizer's state ({@link TrainerState}).
 */
final class LoopState {
    /** Steps done. */
    long step;
    /** Tokens trained on. */
    long tokens;
    /** The global gradient norm of the last step (NaN before the first), which clips the next. */
    double prevNorm = Double.NaN;
    /** The last validation loss (NaN before the first evaluation). */
    double valLoss = Double.NaN;
    /** Seconds the run had taken before this process, and how many of them evaluating. */
    double elapsedBefore;
    double evalSecondsBefore;
    /** Steps skipped in a row for a non-finite loss or gradient. */
    int badSteps;

    /** The checkpoint's trainer state after {@link #step} steps, with the time from {@code clock}. */
    TrainerState save(LoopClock clock, ConfigTree tree, TrainingBatches batches, CorpusFingerprint corpus) {
        long[] sampler = batches.state();
        return new TrainerState(tokens, finiteOrNull(prevNorm), finiteOrNull(valLoss), List.of(sampler[0], sampler[1]),
                clock.elapsed(), clock.evalSeconds(), RunConfig.fingerprint(tree), corpus);
    }

    /**
     * Continues from checkpoint {@code c}: this state, the sampler's and the optimizer's;
     * IllegalArgumentException naming the checkpoint's file when it does not fit this run.
     */
    void restore(Checkpoints.Loaded c, LayerwiseOptimizer opt, TrainingBatches batches) {
        try {
            TrainerState t = TrainerState.from(c.trainer());
            step = c.step();
            tokens = t.tokens();
            prevNorm = t.prevNorm() == null ? Double.NaN : t.prevNorm();
            valLoss = t.valLoss() == null ? Double.NaN : t.valLoss();
            elapsedBefore = t.elapsedS();
            evalSecondsBefore = t.evalS();
            batches.restore(new long[] {t.sampler().get(0), t.sampler().get(1)});
            c.restore(opt);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("checkpoint " + c.dir().resolve(Checkpoints.TRAINER)
                    + " does not fit this run: " + e.getMessage(), e);
        }
    }

    private static Double finiteOrNull(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
