package io.galore4j.galore;

import java.util.Arrays;

/**
 * The replicas of a data-parallel run as the optimizer and the training loop see them: each holds
 * the same weights and optimizer state and sums float arrays with the others (docs/design.md §3.9).
 * Every replica makes the same calls in the same order with arrays of the same lengths; the sum
 * must be bit-identical on every replica, which is what keeps their weights identical.
 *
 * <p>An implementation checks every call: when a replica failed or left, the call throws
 * {@link IllegalStateException} on every replica still running (it never returns a partial sum).
 */
public interface Replicas {

    /** This replica's index, 0 ≤ rank &lt; size. */
    int rank();

    /** How many replicas take part. */
    int size();

    /** Replaces {@code data} by its element-wise sum over all replicas (the same bits on every replica). */
    void sumInPlace(float[] data);

    /**
     * Replaces {@code data} on every replica by {@code root}'s: a sum to which the other replicas
     * contribute zeros (so a −0.0f of the root arrives as +0.0f, on the root too).
     */
    default void broadcast(float[] data, int root) {
        if (root < 0 || root >= size()) {
            throw new IllegalArgumentException("broadcast root " + root + " out of range for " + size() + " replicas");
        }
        if (rank() != root) {
            Arrays.fill(data, 0f);
        }
        sumInPlace(data);
    }

    /** A single process: the sum over one replica is the array itself. */
    Replicas SINGLE = new Replicas() {
        @Override
        public int rank() {
            return 0;
        }

        @Override
        public int size() {
            return 1;
        }

        @Override
        public void sumInPlace(float[] data) {
            // one replica: nothing to add
        }
    };
}
