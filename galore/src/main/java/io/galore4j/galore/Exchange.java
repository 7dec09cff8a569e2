package io.galore4j.galore;

import io.galore4j.projection.BasisCandidate;
import io.galore4j.projection.Projector;
import io.galore4j.quant.RoundingRng;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The optimizer's side of data-parallel training (docs/design.md §3.9): every gradient a parameter
 * is updated with is the mean over the replicas of (this step's gradient + its accumulated
 * micro-batches). Full-rank parameters exchange their full gradient; GaLore parameters exchange
 * only R, except at a basis refresh, where the full gradient of that micro-batch is summed, one
 * owner replica computes the basis and broadcasts it, and every replica accepts the broadcast copy.
 * Every replica makes the same calls in the same order: a gradient that is not finite on one
 * replica is still sent (it makes the sum non-finite, which every replica then rejects).
 *
 * <p>Full-rank gradients of at most {@value #SMALL} floats (norms, small biases) are copied into a
 * bucket of {@value #BUCKET} floats and exchanged together when the next one would not fit, or at
 * {@link #flush}; their updates are applied then, and a rejected one is reported by {@link #flush}.
 */
final class Exchange {
    /** Full-rank gradients of at most this many floats are bucketed. */
    static final int SMALL = 65_536;
    /** The bucket's capacity in floats (1 MiB). */
    static final int BUCKET = 4 * SMALL;

    private enum Kind { GRADIENT, PROJECTED, REFRESH, BASIS }

    private record Pending(FullRankParam param, int offset, double lr, double gradScale) {
    }

    private final Replicas replicas;
    private final float size;
    private final long[] floats = new long[Kind.values().length];
    private long calls;
    private long nanos;
    private double squaredNorm;
    private final float[] bucket = new float[BUCKET];
    private int used;
    private final List<Pending> pending = new ArrayList<>();
    private final List<IllegalArgumentException> rejected = new ArrayList<>();

    Exchange(Replicas replicas) {
        this.replicas = replicas;
        this.size = replicas.size();
    }

    /** (grad + accumulated) averaged over the replicas, then the update; small ones wait in the bucket. */
    void updateFullRank(FullRankParam p, FloatBuffer g, int gOff, double lr, double gradScale, RoundingRng rng) {
        int n = p.weight.length();
        if (n <= SMALL) {
            if (used + n > BUCKET) {
                exchangeBucket(rng);
            }
            local(p, g, gOff, n, bucket, used);
            pending.add(new Pending(p, used, lr, gradScale));
            used += n;
            return;
        }
        float[] x = new float[n];
        local(p, g, gOff, n, x, 0);
        mean(x, Kind.GRADIENT);
        p.apply(FloatBuffer.wrap(x), 0, null, lr, gradScale, rng);
        squaredNorm += squares(x, 0, n);
    }

    /**
     * The mean over the replicas of this replica's R + the accumulated projected micro-batches
     * ({@code r} null: R was not finite here, and NaN is sent).
     */
    float[] meanProjected(GaloreParam p, INDArray r) {
        long[] shape = p.projector().projectedShape();
        int n = (int) (shape[0] * shape[1]);
        float[] x = new float[n];
        if (r == null) {
            Arrays.fill(x, Float.NaN);
        } else {
            local(p, r.data().asNioFloat(), (int) r.offset(), n, x, 0);
        }
        mean(x, Kind.PROJECTED);
        return x;
    }

    /** Counts an accepted GaLore update's ‖mean R‖². */
    void accepted(double squares) {
        squaredNorm += squares;
    }

    /**
     * The basis of the mean over the replicas of this micro-batch's full gradient, computed by
     * {@code owner} and rebuilt from its broadcast on every replica.
     *
     * @throws IllegalArgumentException on every replica, naming the parameter, when the summed
     *                                  gradient is not finite or the owner's computation failed
     */
    BasisCandidate sharedBasis(GaloreParam p, int owner, long step, INDArray grad) {
        Projector projector = p.projector();
        int n = p.weight.length();
        float[] g = new float[n];
        grad.data().asNioFloat().get((int) grad.offset(), g, 0, n);
        sum(g, Kind.REFRESH);
        if (!(Chunks.maxAbs(g, n) <= Float.MAX_VALUE)) {
            throw new IllegalArgumentException("gradient of " + p.name + ": the gradient summed over the replicas is not"
                    + " finite at element " + Chunks.firstNonFinite(g, n) + " at a basis refresh; rejected on every"
                    + " replica and nothing was changed");
        }
        divide(g);
        float[] payload = new float[projector.payloadFloats()];
        IllegalArgumentException failure = null;
        if (replicas.rank() == owner) {
            try (INDArray mean = Nd4j.create(g, p.shape, 'c');
                 BasisCandidate c = projector.propose(step, mean)) {
                projector.writePayload(c, payload);
            } catch (IllegalArgumentException e) {
                failure = e; // the payload stays all zeros: status "failed" for every replica
            }
        }
        long t0 = System.nanoTime();
        replicas.broadcast(payload, owner);
        count(Kind.BASIS, payload.length, t0);
        try {
            return projector.candidate(step, payload);
        } catch (IllegalArgumentException e) {
            throw failure != null ? failure : new IllegalArgumentException("gradient of " + p.name + ": " + e.getMessage()
                    + " (replica " + owner + "); rejected on every replica and nothing was changed", e);
        }
    }

    /**
     * Exchanges the bucket and applies its updates; then throws IllegalArgumentException naming the
     * first update of this step that was rejected (the others are applied).
     */
    void flush(RoundingRng rng) {
        exchangeBucket(rng);
        if (!rejected.isEmpty()) {
            IllegalArgumentException first = rejected.get(0);
            int more = rejected.size() - 1;
            rejected.clear();
            throw new IllegalArgumentException(first.getMessage()
                    + (more > 0 ? " (and " + more + " more bucketed gradients were rejected)" : ""), first);
        }
    }

    private void exchangeBucket(RoundingRng rng) {
        if (pending.isEmpty()) {
            return;
        }
        float[] x = Arrays.copyOf(bucket, used);
        mean(x, Kind.GRADIENT);
        List<Pending> now = List.copyOf(pending);
        pending.clear();
        used = 0;
        FloatBuffer xb = FloatBuffer.wrap(x);
        for (Pending q : now) {
            int n = q.param.weight.length();
            try {
                q.param.apply(xb, q.offset, null, q.lr, q.gradScale, rng);
                squaredNorm += squares(x, q.offset, n);
            } catch (IllegalArgumentException e) {
                rejected.add(e);
            }
        }
    }

    /** Whether updates wait in the bucket (they must be {@link #flush}ed before the step ends). */
    boolean pending() {
        return !pending.isEmpty();
    }

    /** Ends the step's bookkeeping: the norm restarts; an abandoned step drops the bucket. */
    void endStep() {
        squaredNorm = 0;
        pending.clear();
        rejected.clear();
        used = 0;
    }

    double squaredNorm() {
        return squaredNorm;
    }

    ExchangeCounts counts() {
        return new ExchangeCounts(floats[Kind.GRADIENT.ordinal()], floats[Kind.PROJECTED.ordinal()],
                floats[Kind.REFRESH.ordinal()], floats[Kind.BASIS.ordinal()], calls, nanos);
    }

    /**
     * This replica's contribution: src (n elements from srcOff) plus the parameter's accumulated
     * micro-batches, summed as {@link MomentStep} sums them, into dst from dstOff; NaN when one of
     * this step's micro-batches was not finite here (so the sum is not, on every replica).
     */
    private static void local(ParamState p, FloatBuffer src, int srcOff, int n, float[] dst, int dstOff) {
        if (p.poisoned) {
            Arrays.fill(dst, dstOff, dstOff + n, Float.NaN);
            return;
        }
        src.get(srcOff, dst, dstOff, n);
        if (p.acc != null) {
            float[] a = new float[Math.min(Chunks.SIZE, n)];
            for (int s = 0; s < n; s += a.length) {
                int len = Math.min(a.length, n - s);
                p.acc.read(s, len, a);
                for (int i = 0; i < len; i++) {
                    dst[dstOff + s + i] += a[i];
                }
            }
        }
    }

    private void mean(float[] x, Kind kind) {
        sum(x, kind);
        divide(x);
    }

    private void divide(float[] x) {
        for (int i = 0; i < x.length; i++) {
            x[i] /= size;
        }
    }

    private void sum(float[] x, Kind kind) {
        long t0 = System.nanoTime();
        replicas.sumInPlace(x);
        count(kind, x.length, t0);
    }

    private void count(Kind kind, int n, long t0) {
        nanos += System.nanoTime() - t0;
        calls++;
        floats[kind.ordinal()] += n;
    }

    static double squares(float[] x, int off, int n) {
        double s = 0;
        for (int i = off; i < off + n; i++) {
            s += (double) x[i] * x[i];
        }
        return s;
    }
}
