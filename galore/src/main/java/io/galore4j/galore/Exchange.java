package io.galore4j.galore;

import io.galore4j.projection.BasisCandidate;
import io.galore4j.projection.Projector;
import io.galore4j.quant.RoundingRng;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
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
 *
 * <p>Every array reaches {@link Replicas} in pieces of at most {@value #CHUNK} floats: the collective
 * copies what it is handed (docs/design.md §3.8), so its copies stay that small whatever the model.
 * A large full-rank gradient is summed piece by piece in the gradient's own buffer (an update may
 * overwrite it), so the working memory is the few arrays {@link ExchangeMemory#bytes} counts.
 */
final class Exchange {
    /** Full-rank gradients of at most this many floats are bucketed. */
    static final int SMALL = 65_536;
    /** The bucket's capacity in floats (1 MiB). */
    static final int BUCKET = 4 * SMALL;
    /** The most floats one call of {@link Replicas} is handed (4 MiB): bounds the collective's own copies. */
    static final int CHUNK = 1 << 20;

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
    /** The reused piece of {@value #CHUNK} floats (allocated when an array first needs one). */
    private float[] chunk;
    /** Scratch for reading an accumulation. */
    private final float[] accumulated = new float[Chunks.SIZE];

    /** Fills {@code dst[0 .. len)} with elements [from, from + len) of what is exchanged. */
    private interface Fill {
        void into(int from, int len, float[] dst);
    }

    /** Takes back elements [from, from + len) of the exchanged result from {@code src[0 .. len)}. */
    private interface Drain {
        void from(int from, int len, float[] src);
    }

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
            local(p, g, gOff, 0, n, bucket, used);
            pending.add(new Pending(p, used, lr, gradScale));
            used += n;
            return;
        }
        double sq = meanFull(p, g, gOff);
        p.apply(g, gOff, null, lr, gradScale, rng); // may overwrite g (an INT8 weight's work buffer)
        squaredNorm += sq;
    }

    /**
     * g ← the mean over the replicas of (g + the accumulated micro-batches), piece by piece in g's
     * own buffer (NaN where this replica's step was not finite); returns the mean's squared norm,
     * for {@link #accepted} once the update accepts it. Full-rank parameters, and the projected
     * updates that need the whole gradient (APOLLO, Fira).
     */
    double meanFull(ParamState p, FloatBuffer g, int gOff) {
        double[] sq = {0};
        exchange(p.weight.length(), Kind.GRADIENT, -1, (from, len, c) -> local(p, g, gOff, from, len, c, 0),
                (from, len, c) -> {
                    divide(c, len);
                    sq[0] = squares(sq[0], c, 0, len);
                    g.put(gOff + from, c, 0, len);
                });
        return sq[0];
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
            local(p, r.data().asNioFloat(), (int) r.offset(), 0, n, x, 0);
        }
        mean(x, Kind.PROJECTED);
        return x;
    }

    /** Counts an accepted update's squared norm of what was exchanged (‖mean R‖², or ‖mean G‖²). */
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
        int n = p.weight.length();
        FloatBuffer src = grad.data().asNioFloat();
        int srcOff = (int) grad.offset();
        // only the owner keeps the mean, in the one m×n array it proposes from; the local gradient
        // itself must stay as it is (it is projected into the new basis afterwards)
        boolean owns = replicas.rank() == owner;
        INDArray mean = owns ? Nd4j.createUninitialized(DataType.FLOAT, p.shape, 'c') : null;
        FloatBuffer dst = owns ? mean.data().asNioFloat() : null;
        int dstOff = owns ? (int) mean.offset() : 0;
        int[] firstBad = {-1};
        try {
            exchange(n, Kind.REFRESH, -1, (from, len, c) -> src.get(srcOff + from, c, 0, len), (from, len, c) -> {
                if (firstBad[0] < 0 && !(Chunks.maxAbs(c, len) <= Float.MAX_VALUE)) {
                    firstBad[0] = from + Chunks.firstNonFinite(c, len);
                }
                if (owns) {
                    divide(c, len);
                    dst.put(dstOff + from, c, 0, len);
                }
            });
            if (firstBad[0] >= 0) {
                throw new IllegalArgumentException("gradient of " + p.name + ": the gradient summed over the replicas is"
                        + " not finite at element " + firstBad[0] + " at a basis refresh; rejected on every replica and"
                        + " nothing was changed");
            }
        } catch (RuntimeException e) {
            if (mean != null) {
                mean.close();
            }
            throw e;
        }
        try (mean) {
            return broadcastBasis(p, owner, step, mean);
        }
    }

    /**
     * The basis {@code owner} computes from {@code mean} (the mean gradient: given on the owner,
     * ignored elsewhere), rebuilt from its broadcast on every replica.
     *
     * @throws IllegalArgumentException on every replica, naming the parameter, when the owner's
     *                                  computation failed
     */
    BasisCandidate broadcastBasis(GaloreParam p, int owner, long step, INDArray mean) {
        Projector projector = p.projector();
        float[] payload = new float[projector.payloadFloats()];
        IllegalArgumentException failure = null;
        if (replicas.rank() == owner) {
            try (BasisCandidate c = projector.propose(step, mean)) {
                projector.writePayload(c, payload);
            } catch (IllegalArgumentException e) {
                failure = e; // the payload stays all zeros: status "failed" for every replica
            }
        }
        whole(payload, Kind.BASIS, owner);
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
            double sq = squares(x, q.offset, n); // before the update, which may use x as its work buffer
            try {
                q.param.apply(xb, q.offset, null, q.lr, q.gradScale, rng);
                squaredNorm += sq;
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
     * This replica's contribution to elements [from, from + n): src (from absolute index srcOff +
     * from) plus the parameter's accumulated micro-batches, summed as {@link MomentStep} sums them,
     * into dst from dstOff; NaN when one of this step's micro-batches was not finite here (so the
     * sum is not, on every replica).
     */
    private void local(ParamState p, FloatBuffer src, int srcOff, int from, int n, float[] dst, int dstOff) {
        if (p.poisoned) {
            Arrays.fill(dst, dstOff, dstOff + n, Float.NaN);
            return;
        }
        src.get(srcOff + from, dst, dstOff, n);
        if (p.acc != null) {
            float[] a = accumulated;
            for (int s = 0; s < n; s += a.length) {
                int len = Math.min(a.length, n - s);
                p.acc.read(from + s, len, a);
                for (int i = 0; i < len; i++) {
                    dst[dstOff + s + i] += a[i];
                }
            }
        }
    }

    /** x ← the mean over the replicas of x. */
    private void mean(float[] x, Kind kind) {
        whole(x, kind, -1);
        divide(x, x.length);
    }

    /** Sums x over the replicas ({@code root} ≥ 0: broadcasts root's), handing x itself over when it fits a piece. */
    private void whole(float[] x, Kind kind, int root) {
        if (x.length <= CHUNK) {
            call(x, kind, root);
        } else {
            exchange(x.length, kind, root, (from, len, c) -> System.arraycopy(x, from, c, 0, len),
                    (from, len, c) -> System.arraycopy(c, 0, x, from, len));
        }
    }

    private void divide(float[] x, int len) {
        for (int i = 0; i < len; i++) {
            x[i] /= size;
        }
    }

    /**
     * Sums n floats over the replicas ({@code root} ≥ 0: broadcasts {@code root}'s), in pieces of at
     * most {@value #CHUNK}: each piece is filled, handed to {@link Replicas} and drained in turn.
     * Element-wise, so the result does not depend on the pieces.
     */
    private void exchange(int n, Kind kind, int root, Fill fill, Drain drain) {
        for (int from = 0; from < n; from += CHUNK) {
            int len = Math.min(CHUNK, n - from);
            float[] c = piece(len);
            fill.into(from, len, c);
            call(c, kind, root);
            drain.from(from, len, c);
        }
    }

    private void call(float[] x, Kind kind, int root) {
        long t0 = System.nanoTime();
        if (root < 0) {
            replicas.sumInPlace(x);
        } else {
            replicas.broadcast(x, root);
        }
        nanos += System.nanoTime() - t0;
        calls++;
        floats[kind.ordinal()] += x.length;
    }

    /** An array of exactly len ≤ {@value #CHUNK} floats: the reused piece when len is {@value #CHUNK}. */
    private float[] piece(int len) {
        if (len < CHUNK) {
            return new float[len];
        }
        if (chunk == null) {
            chunk = new float[CHUNK];
        }
        return chunk;
    }

    static double squares(float[] x, int off, int n) {
        return squares(0, x, off, n);
    }

    /** s + Σ x[i]² over [off, off + n), added in index order (so pieces add up to the whole array's sum). */
    static double squares(double s, float[] x, int off, int n) {
        for (int i = off; i < off + n; i++) {
            s += (double) x[i] * x[i];
        }
        return s;
    }
}
