package io.galore4j.galore;

import io.galore4j.projection.SubspaceStats;
import io.galore4j.quant.Moment;
import io.galore4j.quant.RoundingRng;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A parameter updated in full rank (embeddings, head, norms, or {@code full_rank: true}) with
 * AdamW, SGD or Lion, moments in the chosen codecs; W ← W − η(N + λW). A gradient is checked
 * whole before any chunk of the update is applied ({@link MomentStep#requireFinite}): a rejected
 * one changes nothing.
 */
final class FullRankParam extends ParamState {
    private final MomentStep kernel;

    FullRankParam(String name, long[] shape, ParamSettings settings, WeightStore weight, MomentStep kernel) {
        super(name, shape, settings, weight);
        int n = weight.length();
        int rows = shape.length == 2 ? (int) shape[0] : 1;
        int cols = n / rows;
        this.m = new MomentState(settings.mCodec(), Moment.FIRST, rows, cols);
        this.v = settings.rule() == UpdateRule.ADAMW ? new MomentState(settings.vCodec(), Moment.SECOND, rows, cols) : null;
        this.kernel = kernel;
    }

    @Override
    void accumulate(INDArray grad, RoundingRng rng, List<SubspaceStats> events) {
        addToAccumulation("gradient of " + name, grad.data().asNioFloat(), (int) grad.offset(), weight.length());
    }

    @Override
    void update(INDArray grad, double lr, double gradScale, RoundingRng rng, List<SubspaceStats> events) {
        FloatBuffer g = grad.data().asNioFloat();
        int gOff = (int) grad.offset();
        if (exchange == null) {
            apply(g, gOff, acc, lr, gradScale, rng);
        } else {
            exchange.updateFullRank(this, g, gOff, lr, gradScale, rng);
        }
    }

    /**
     * The update from gradient (g + a) × gradScale, g at absolute index gOff ({@code a}: the
     * accumulation, or null when g already holds it); checked whole first, so a rejected one
     * changes nothing. Clears the accumulation after.
     */
    void apply(FloatBuffer g, int gOff, Accumulation a, double lr, double gradScale, RoundingRng rng) {
        double wd = settings.weightDecay();
        kernel.requireFinite("gradient of " + name, settings, settings.rule(), g, gOff, a, (float) gradScale,
                weight.length());
        kernel.run(settings, settings.rule(), steps + 1, m, v, g, gOff, a, (float) gradScale, weight.length(),
                (start, len, u) -> weight.applyChunk(start, len, u, lr, wd, g, gOff), rng);
        weight.finishUpdate(g, gOff);
        discardAccumulation();
        steps++;
    }
}
