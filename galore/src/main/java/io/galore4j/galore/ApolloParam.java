package io.galore4j.galore;

import io.galore4j.projection.Side;
import io.galore4j.projection.SubspaceStats;
import io.galore4j.quant.Moment;
import io.galore4j.quant.RoundingRng;
import io.galore4j.quant.Staging;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A 2-D weight updated by APOLLO (Zhu et al. 2024, arXiv 2412.05270, Alg. 1; docs/design.md §3):
 * Adam runs on a random projection of the gradient only to estimate how much it would rescale
 * each channel, and that scaling is applied to the full gradient:
 * <pre>
 *   P  ~ N(0, 1/r), r×d on the side of optim.side (std: the smaller, d = min(m, n), as the paper)
 *   R  = P G (r×n, m ≤ n) or G Pᵀ (m×r, m &gt; n)
 *   M, V ← Adam moments of R; R̃ = M̂ / (√V̂ + ε)
 *   s_j = ‖R̃_j‖ / (‖R_j‖ + 10⁻⁸)   per channel j along the larger dimension (scaling: channel),
 *         or one s = ‖R̃‖ / (‖R‖ + 10⁻⁸) per matrix (scaling: tensor, APOLLO-Mini)
 *   S  = α · G · diag(s)  (or diag(s) · G), then the norm-growth limiter (γ = 1.01)
 *   W ← W − η(S + λW)
 * </pre>
 * P is never stored: it is a function of the parameter's seed and its generation k = ⌊t / gap⌋
 * (t the update count before this one), rebuilt at every update; a checkpoint holds the seed and
 * the number of generations drawn. Each new generation is reported as this layer's refresh event
 * (no SVD: no cosine, overlap or singular values; its energy is ‖R‖²_F / ‖G‖²_F, the gradient
 * energy the random projection keeps, 1 in expectation). Gradient accumulation sums the full gradient G (the update needs G
 * itself, not only R). A gradient is checked whole (G, then R) before anything changes. With
 * data-parallel replicas the full gradient is averaged over them ({@link Exchange#meanFull}); P
 * needs no exchange, being drawn from the same seed on every replica.
 */
final class ApolloParam extends ParamState {
    /** The guard added to ‖R‖ in the scaling factor. */
    static final double NORM_GUARD = 1e-8;

    /** The host arrays of P and R (this thread's, grown to the largest matrix; one update runs at a time). */
    private static final Staging.Slot<float[]> P_HOST = Staging.floats();
    private static final Staging.Slot<float[]> R_HOST = Staging.floats();

    private final MomentStep kernel;
    private final boolean left;
    private final int rows;
    private final int cols;
    private final long projectionSeed;
    private final NormGrowthLimiter limiter = new NormGrowthLimiter(NormGrowthLimiter.DEFAULT_GAMMA);
    private final float[] chunk = new float[Chunks.SIZE];
    private final float[] accumulated = new float[Chunks.SIZE];
    /** Generations of P drawn so far (the last one is generation draws − 1). */
    private long draws;

    ApolloParam(String name, long[] shape, ParamSettings s, WeightStore weight, MomentStep kernel, long seed) {
        super(name, shape, s, weight);
        this.rows = (int) shape[0];
        this.cols = (int) shape[1];
        this.left = s.side().resolve(rows, cols) == Side.LEFT;
        this.projectionSeed = seed;
        long[] r = s.side().projectedShape(rows, cols, s.rank());
        this.m = new MomentState(s.mCodec(), Moment.FIRST, (int) r[0], (int) r[1]);
        this.v = new MomentState(s.vCodec(), Moment.SECOND, (int) r[0], (int) r[1]);
        this.kernel = kernel;
    }

    /**
     * Bytes one update holds besides the parameter's state: P (rank × the side's dimension) and R
     * (rank × the other), each as a Java array and as an ND4J array.
     */
    static long updateBytes(int rank, long rows, long cols) {
        return 2L * Float.BYTES * rank * (rows + cols);
    }

    /**
     * Generation {@code k} of the projection of a parameter with seed {@code seed}: rank × dim
     * values, row-major, independent N(0, 1/rank) by Box–Muller from a generator seeded with
     * (seed, k).
     */
    static float[] projection(long seed, long k, int rank, int dim) {
        return projection(seed, k, rank, dim, new float[rank * dim]);
    }

    /** {@link #projection(long, long, int, int)} into {@code p[0 .. rank·dim)}; returns p. */
    static float[] projection(long seed, long k, int rank, int dim, float[] p) {
        SplittableRandom g = new SplittableRandom(seed + k * 0x9E3779B97F4A7C15L);
        int n = rank * dim;
        double sd = 1 / Math.sqrt(rank);
        for (int i = 0; i < n; i += 2) {
            double radius = Math.sqrt(-2 * Math.log(1 - g.nextDouble())) * sd;
            double angle = 2 * Math.PI * g.nextDouble();
            p[i] = (float) (radius * Math.cos(angle));
            if (i + 1 < n) {
                p[i + 1] = (float) (radius * Math.sin(angle));
            }
        }
        return p;
    }

    /** The generation of P the next update uses. */
    private long generation() {
        return steps / gap();
    }

    /** refresh_gap: the updates that use one generation of P. */
    private long gap() {
        return ((Number) settings.refreshParams().get("gap")).longValue();
    }

    @Override
    void update(INDArray grad, double lr, double gradScale, RoundingRng rng, List<SubspaceStats> events) {
        FloatBuffer g = grad.data().asNioFloat();
        int gOff = (int) grad.offset();
        int n = weight.length();
        Accumulation a = acc;
        double meanSquares = 0;
        if (exchange != null) { // G ← the mean over the replicas of (g + accumulated); the seed of P is shared
            meanSquares = exchange.meanFull(this, g, gOff);
            a = null;
        }
        kernel.requireFinite("gradient of " + name, settings, UpdateRule.ADAMW, g, gOff, a, (float) gradScale, n);
        if (a != null || gradScale != 1) { // G = (g + accumulated) × gradScale, in the gradient buffer
            fold(g, gOff, a, gradScale, chunk, accumulated);
        }
        long k = generation();
        int rank = settings.rank();
        int dim = left ? rows : cols;
        long[] rShape = settings.side().projectedShape(rows, cols, rank);
        int rn = (int) (rShape[0] * rShape[1]);
        float[] r = R_HOST.get(rn);
        long drawStart = System.nanoTime();
        float[] pValues = projection(projectionSeed, k, rank, dim, P_HOST.get(rank * dim));
        double drawMillis = (System.nanoTime() - drawStart) / 1e6;
        try (INDArray p = Nd4j.createUninitialized(DataType.FLOAT, rank, dim);
             INDArray rr = Nd4j.createUninitialized(DataType.FLOAT, rShape)) {
            p.data().asNioFloat().put((int) p.offset(), pValues, 0, rank * dim);
            if (left) {
                Nd4j.gemm(p, grad, rr, false, false, 1.0, 0.0);
            } else {
                Nd4j.gemm(grad, p, rr, false, true, 1.0, 0.0);
            }
            rr.data().asNioFloat().get((int) rr.offset(), r, 0, rn);
        }
        FloatBuffer rb = FloatBuffer.wrap(r);
        kernel.requireFinite("projected gradient of " + name, settings, UpdateRule.ADAMW, rb, 0, null, 1f, rn);
        int channels = settings.scaling() == Scaling.TENSOR ? 1 : left ? cols : rows;
        double[] rNorm = channelSquares(r, rn, (int) rShape[1], channels);
        double rSquares = 0;
        for (double x : rNorm) {
            rSquares += x;
        }
        kernel.run(settings, UpdateRule.ADAMW, steps + 1, m, v, rb, 0, null, 1f, rn,
                (start, len, u) -> rb.put(start, u, 0, len), rng);
        if (exchange != null) {
            exchange.accepted(meanSquares);
        }
        double[] s = channelSquares(r, rn, (int) rShape[1], channels); // now of R̃
        double[] gSquares = new double[channels];
        for (int start = 0; start < n; start += Chunks.SIZE) {
            int len = Math.min(Chunks.SIZE, n - start);
            g.get(gOff + start, chunk, 0, len);
            for (int i = 0; i < len; i++) {
                gSquares[channel(start + i, channels)] += (double) chunk[i] * chunk[i];
            }
        }
        double alpha = settings.scale();
        double gTotal = 0;
        for (double x : gSquares) {
            gTotal += x;
        }
        double updateSquares = 0;
        for (int j = 0; j < channels; j++) {
            s[j] = alpha * Math.sqrt(s[j]) / (Math.sqrt(rNorm[j]) + NORM_GUARD);
            updateSquares += s[j] * s[j] * gSquares[j];
        }
        double limit = limiter.factor(Math.sqrt(updateSquares));
        double wd = settings.weightDecay();
        for (int start = 0; start < n; start += Chunks.SIZE) {
            int len = Math.min(Chunks.SIZE, n - start);
            g.get(gOff + start, chunk, 0, len);
            for (int i = 0; i < len; i++) {
                chunk[i] = (float) (chunk[i] * s[channel(start + i, channels)] * limit);
            }
            weight.applyChunk(start, len, chunk, lr, wd, g, gOff);
        }
        weight.finishUpdate(g, gOff);
        discardAccumulation();
        if (k >= draws) { // a new generation of P: the event plot and report show as this layer's refresh
            events.add(new SubspaceStats(steps, name, rank, Double.NaN, Double.NaN, rSquares / gTotal, new double[0], gap(),
                    drawMillis));
        }
        draws = k + 1;
        steps++;
    }

    /** Sums the full gradient: the update scales G itself, so R alone would not do. */
    @Override
    void accumulate(INDArray grad, RoundingRng rng, List<SubspaceStats> events) {
        addToAccumulation("gradient of " + name, grad.data().asNioFloat(), (int) grad.offset(), weight.length());
    }

    /** The channel of element {@code idx} of the m×n weight: its column (P G), its row (G Pᵀ), or 0 for one per matrix. */
    private int channel(int idx, int channels) {
        return channels == 1 ? 0 : left ? idx % cols : idx / cols;
    }

    /**
     * Squared norms of the channels of a projected matrix with {@code rCols} columns: its columns
     * (left, r×n), its rows (right, m×r), or all of it (one channel).
     */
    private double[] channelSquares(float[] r, int rn, int rCols, int channels) {
        double[] out = new double[channels];
        for (int i = 0; i < rn; i++) {
            int j = channels == 1 ? 0 : left ? i % rCols : i / rCols;
            out[j] += (double) r[i] * r[i];
        }
        return out;
    }

    @Override
    Map<String, Object> save(OptimizerState.Sink sink) {
        Map<String, Object> s = super.save(sink);
        s.put("projection_seed", projectionSeed);
        s.put("projection_draws", draws);
        s.put("limiter", limiter.state());
        return s;
    }

    @Override
    void load(Map<String, ?> s, OptimizerState.Source source, Set<String> used) {
        if (!(s.get("projection_seed") instanceof Number seed) || !(s.get("projection_draws") instanceof Number d)
                || !(s.get("limiter") instanceof Map<?, ?> lim)) {
            throw new IllegalArgumentException("projection_seed, projection_draws and limiter state are missing");
        }
        if (seed.longValue() != projectionSeed) {
            throw new IllegalArgumentException("projection_seed is " + seed + " in the checkpoint but " + projectionSeed
                    + " in this run (another train.seed?)");
        }
        super.load(s, source, used);
        long want = steps == 0 ? 0 : (steps - 1) / gap() + 1;
        if (d.longValue() != want) {
            throw new IllegalArgumentException("projection_draws " + d + " does not fit " + steps + " steps");
        }
        @SuppressWarnings("unchecked")
        Map<String, ?> l = (Map<String, ?>) lim;
        limiter.restore(l);
        draws = d.longValue();
    }
}
