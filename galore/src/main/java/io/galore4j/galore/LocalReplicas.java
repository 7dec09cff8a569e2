package io.galore4j.galore;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * N replicas as threads of one JVM ({@link #members}): each sum adds the replicas' arrays in rank
 * order, so every replica gets the same bits. For tests of data-parallel code without a
 * collective; a replica that fails {@link #leave}s, and every other replica's next call then
 * throws IllegalStateException, as a real collective's checked call does.
 */
public final class LocalReplicas {

    private final int size;
    private final long timeoutMillis;
    private final CyclicBarrier barrier;
    private final float[][] inputs;
    private volatile float[] result;
    private volatile String failure;
    private boolean copying; // the barrier trips twice per call: sum, then everyone has copied it

    private LocalReplicas(int size, long timeoutMillis) {
        if (size < 1) {
            throw new IllegalArgumentException("replicas: size must be >= 1, got " + size);
        }
        this.size = size;
        this.timeoutMillis = timeoutMillis;
        this.inputs = new float[size][];
        this.barrier = new CyclicBarrier(size, this::reduce);
    }

    /** The {@code size} members, one per thread; a call waiting longer than {@code timeoutMillis} for the others throws. */
    public static List<Replicas> members(int size, long timeoutMillis) {
        LocalReplicas group = new LocalReplicas(size, timeoutMillis);
        List<Replicas> members = new ArrayList<>();
        for (int r = 0; r < size; r++) {
            members.add(group.new Member(r));
        }
        return List.copyOf(members);
    }

    /** Runs at each trip of the barrier, by the last replica to arrive: at the first trip of a call, the sum in rank order. */
    private void reduce() {
        copying = !copying;
        if (!copying) {
            return;
        }
        int n = inputs[0].length;
        for (float[] in : inputs) {
            if (in.length != n) {
                failure = "replicas passed arrays of different lengths";
                result = null;
                return;
            }
        }
        float[] sum = inputs[0].clone();
        for (int r = 1; r < size; r++) {
            float[] in = inputs[r];
            for (int i = 0; i < n; i++) {
                sum[i] += in[i];
            }
        }
        result = sum;
    }

    private final class Member implements Replicas {
        private final int rank;

        Member(int rank) {
            this.rank = rank;
        }

        @Override
        public int rank() {
            return rank;
        }

        @Override
        public int size() {
            return size;
        }

        @Override
        public void sumInPlace(float[] data) {
            if (failure != null) {
                throw new IllegalStateException("replica " + rank + ": " + failure);
            }
            inputs[rank] = data;
            try {
                barrier.await(timeoutMillis, TimeUnit.MILLISECONDS);
                float[] sum = result;
                if (failure != null || sum == null) {
                    throw new IllegalStateException("replica " + rank + ": " + (failure != null ? failure : "no result"));
                }
                System.arraycopy(sum, 0, data, 0, data.length);
                // every replica has copied the sum before the next call's inputs are written
                barrier.await(timeoutMillis, TimeUnit.MILLISECONDS);
            } catch (BrokenBarrierException | TimeoutException e) {
                fail("a replica failed or left");
                throw new IllegalStateException("replica " + rank + ": " + failure, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("replica " + rank + " was interrupted");
                throw new IllegalStateException("replica " + rank + " was interrupted", e);
            }
        }

        private void fail(String why) {
            if (failure == null) {
                failure = why;
            }
            barrier.reset();
        }

        @Override
        public String toString() {
            return "replica " + rank + " of " + size;
        }
    }

    /** Makes {@code member} leave its group (a failed replica): the others' calls then throw. */
    public static void leave(Replicas member) {
        if (!(member instanceof Member m)) {
            throw new IllegalArgumentException("not a local replica: " + member);
        }
        m.fail("replica " + m.rank + " left");
    }
}
