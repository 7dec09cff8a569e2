package io.galore4j.distributed;

import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;
import ml.dmlc.xgboost4j.java.Communicator;
import ml.dmlc.xgboost4j.java.XGBoostError;

/**
 * One worker's membership of a collective: sums and broadcasts float arrays across the workers
 * started against one {@link CollectiveTracker}, over XGBoost's native ring all-reduce.
 *
 * <p>The native communicator is per thread: the thread that joined makes every call, and any
 * other thread is refused. The native all-reduce drops its status, so a dead peer would leave the
 * survivors "summing" garbage without an error; every call therefore carries one sentinel
 * element, 1.0f on every rank, whose sum must be exactly the world size (a small integer, exact
 * in fp32), and a call whose sentinel disagrees throws naming the rank and the call.
 *
 * <p>The sum is bit-identical on every rank (the ring reduces each segment in one order and
 * sends the result around), which is what keeps data-parallel replicas identical.
 */
public final class Collective implements AutoCloseable {

    private final int rank;
    private final int worldSize;
    private final Thread owner;
    private final UnaryOperator<float[]> sum;
    private final boolean nativeMember;
    private long calls;
    private boolean closed;

    /**
     * Package-private: a member whose element-wise sum over the ranks is {@code sum} (the
     * tests substitute one to exercise the sentinel check without killing a peer).
     */
    Collective(int rank, int worldSize, UnaryOperator<float[]> sum, boolean nativeMember) {
        if (worldSize < 1 || rank < 0 || rank >= worldSize) {
            throw new IllegalArgumentException(
                    "collective: rank " + rank + " out of range for world size " + worldSize);
        }
        this.rank = rank;
        this.worldSize = worldSize;
        this.sum = Objects.requireNonNull(sum, "sum");
        this.nativeMember = nativeMember;
        this.owner = Thread.currentThread();
    }

    /**
     * Joins the collective from the calling thread with the tracker's worker arguments
     * ({@link CollectiveTracker#workerArgs()}); blocks until every worker has joined or the
     * tracker's timeout passes.
     */
    public static Collective join(Map<String, Object> workerArgs) {
        try {
            Communicator.init(workerArgs);
        } catch (XGBoostError e) {
            throw new IllegalStateException("collective: joining failed: " + e.getMessage(), e);
        }
        try {
            return new Collective(Communicator.getRank(), Communicator.getWorldSize(),
                    data -> Communicator.allReduce(data, Communicator.OpType.SUM), true);
        } catch (XGBoostError | RuntimeException e) {
            shutdownQuietly();
            throw new IllegalStateException("collective: rank query failed: " + e.getMessage(), e);
        }
    }

    public int rank() {
        return rank;
    }

    public int worldSize() {
        return worldSize;
    }

    /** Replaces {@code data} by its element-wise sum over all ranks (every rank gets the same bits). */
    public void sumInPlace(float[] data) {
        reduce(data, "sumInPlace");
    }

    /**
     * Replaces {@code data} on every rank by {@code root}'s array: a sum in which the other
     * ranks contribute zeros. Every rank must pass an array of the same length. (A −0.0f on the
     * root arrives as +0.0f; every other value, NaN included, arrives unchanged.)
     */
    public void broadcast(float[] data, int root) {
        if (root < 0 || root >= worldSize) {
            throw new IllegalArgumentException(
                    "collective: broadcast root " + root + " out of range for world size " + worldSize);
        }
        if (rank != root) {
            Arrays.fill(data, 0f);
        }
        reduce(data, "broadcast from rank " + root);
    }

    private void reduce(float[] data, String what) {
        checkUsable();
        long call = ++calls;
        float[] buffer = Arrays.copyOf(data, data.length + 1);
        buffer[data.length] = 1f;
        float[] out = sum.apply(buffer);
        float sentinel = out == null || out.length != buffer.length ? Float.NaN : out[data.length];
        if (sentinel != worldSize) {
            throw new IllegalStateException("collective: rank " + rank + " of " + worldSize + ", call "
                    + call + " (" + what + " of " + data.length + " floats): sentinel summed to "
                    + sentinel + ", expected " + worldSize + "; a peer failed or left");
        }
        System.arraycopy(out, 0, data, 0, data.length);
    }

    private void checkUsable() {
        if (closed) {
            throw new IllegalStateException("collective: rank " + rank + " is closed");
        }
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("collective: rank " + rank + " was joined by thread '"
                    + owner.getName() + "' and is used only from it, not from '"
                    + Thread.currentThread().getName() + "'");
        }
    }

    /** Leaves the collective (from the joining thread); further calls are refused. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("collective: rank " + rank + " must be closed by thread '"
                    + owner.getName() + "'");
        }
        closed = true;
        if (nativeMember) {
            try {
                Communicator.shutdown();
            } catch (XGBoostError e) {
                throw new IllegalStateException(
                        "collective: rank " + rank + " shutdown failed: " + e.getMessage(), e);
            }
        }
    }

    private static void shutdownQuietly() {
        try {
            Communicator.shutdown();
        } catch (XGBoostError | RuntimeException ignored) {
            // the join already failed; that failure is the one reported
        }
    }
}
