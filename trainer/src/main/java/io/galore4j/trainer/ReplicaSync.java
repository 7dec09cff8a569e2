package io.galore4j.trainer;

import io.galore4j.galore.Replicas;
import io.galore4j.quant.ExactFloats;

/**
 * What the training loop agrees on with the other replicas of a data-parallel run besides the
 * gradients (docs/design.md §3.9): the micro-batch losses, the evaluation sums, whether to stop,
 * and whether their weights and states are still identical. For one process every method is
 * the identity and no call is made.
 *
 * <p>Values are all-gathered, not summed: each replica writes its double as three floats into its
 * own slot of an array of zeros (x + 0 = x, so the sum carries each value exactly) and every
 * replica adds the N values in rank order in double, which gives the same bits everywhere. The
 * floats sent are counted as control traffic, apart from the gradient exchange.
 */
final class ReplicaSync {

    /** Outcome of {@link #agree}. */
    enum Agreement { SAME, ROOT_FAILED, DIFFERENT }

    /** One process: no replica to agree with (fine-tuning, benchmarks, a single-process run). */
    static final ReplicaSync SINGLE = new ReplicaSync(Replicas.SINGLE);

    private final Replicas replicas;
    private long controlFloats;
    private long controlCalls;
    /** A stop (signal) was agreed at the last {@link #anyStop}. */
    private boolean stopAgreed;

    ReplicaSync(Replicas replicas) {
        this.replicas = replicas;
    }

    boolean distributed() {
        return replicas.size() > 1;
    }

    int rank() {
        return replicas.rank();
    }

    int size() {
        return replicas.size();
    }

    /** Whether this replica writes the run's files (rank 0). */
    boolean writes() {
        return replicas.rank() == 0;
    }

    /** Every replica's {@code values}, by rank: {@code [rank][i]}, the same bits on every replica. */
    double[][] gather(double... values) {
        int n = replicas.size();
        int k = values.length;
        if (n == 1) {
            return new double[][] {values.clone()};
        }
        float[] slots = new float[3 * k * n];
        int base = 3 * k * replicas.rank();
        for (int i = 0; i < k; i++) {
            double x = values[i];
            float hi = (float) x;
            double r1 = x - hi;
            float mid = (float) r1;
            slots[base + 3 * i] = hi;
            slots[base + 3 * i + 1] = mid;
            slots[base + 3 * i + 2] = (float) (r1 - mid);
        }
        replicas.sumInPlace(slots);
        controlFloats += slots.length;
        controlCalls++;
        double[][] all = new double[n][k];
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < k; i++) {
                int j = 3 * (k * r + i);
                float hi = slots[j];
                all[r][i] = Float.isFinite(hi) ? (double) hi + (double) slots[j + 1] + (double) slots[j + 2] : hi;
            }
        }
        return all;
    }

    /** Σ over the replicas of {@code value}, added in rank order (the value itself for one process). */
    double sum(double value) {
        double s = 0;
        for (double[] v : gather(value)) {
            s += v[0];
        }
        return s;
    }

    /**
     * Whether a flag is set on any replica, for the time limit and a stop signal: each replica
     * may see its clock pass the limit or a signal arrive at a different step, and all must end
     * with the same step. Returns {@code timeUp} agreed; {@link #stopAgreed} holds the stop.
     */
    boolean anyStop(boolean timeUp, boolean stop) {
        boolean t = false;
        boolean s = false;
        for (double[] v : gather(timeUp ? 1 : 0, stop ? 1 : 0)) {
            t |= v[0] != 0;
            s |= v[1] != 0;
        }
        stopAgreed = s;
        return t;
    }

    /** Whether a stop was agreed at the last {@link #anyStop}. */
    boolean stopAgreed() {
        return stopAgreed;
    }

    /**
     * Compares every replica's {@code checksum} with rank 0's, and learns whether rank 0 is
     * {@code ok} (it wrote what it had to): the same answer on every replica.
     */
    Agreement agree(long checksum, boolean ok) {
        float[] pieces = new float[ExactFloats.PER_LONG];
        ExactFloats.putLong(pieces, 0, checksum);
        double[][] all = gather(ok ? 1 : 0, pieces[0], pieces[1], pieces[2], pieces[3]);
        if (all[0][0] == 0) {
            return Agreement.ROOT_FAILED;
        }
        for (double[] v : all) {
            for (int i = 1; i < v.length; i++) {
                if (v[i] != all[0][i]) {
                    return Agreement.DIFFERENT;
                }
            }
        }
        return Agreement.SAME;
    }

    /** Floats this replica sent outside the gradient exchange, and in how many calls. */
    long controlFloats() {
        return controlFloats;
    }

    long controlCalls() {
        return controlCalls;
    }
}
