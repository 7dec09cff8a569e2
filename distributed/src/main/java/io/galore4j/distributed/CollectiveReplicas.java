package io.galore4j.distributed;

import io.galore4j.galore.Replicas;

/**
 * A worker's {@link Collective} as the training loop sees its replicas ({@link Replicas}); its
 * broadcast is {@link Replicas}'s (a sum to which the other replicas send zeros). It also tells
 * a peer that stalled from one that died: a checked call that fails after waiting out the
 * exchange timeout means a peer stopped answering without leaving (docs/design.md §3.9).
 */
final class CollectiveReplicas implements Replicas {

    private final Collective collective;
    private final long timeoutNanos;
    private String stall;

    /** {@code exchangeTimeoutS}: the native collective's wait bound the workers were given. */
    CollectiveReplicas(Collective collective, int exchangeTimeoutS) {
        this.collective = collective;
        // the native wait ends at the timeout; a call that failed later than 90 % of it waited it out
        this.timeoutNanos = exchangeTimeoutS * 900_000_000L;
    }

    @Override
    public int rank() {
        return collective.rank();
    }

    @Override
    public int size() {
        return collective.worldSize();
    }

    @Override
    public void sumInPlace(float[] data) {
        long start = System.nanoTime();
        try {
            collective.sumInPlace(data);
        } catch (IllegalStateException e) {
            long waited = System.nanoTime() - start;
            if (stall == null && waited >= timeoutNanos) {
                stall = String.format("rank %d waited %.0f s for a peer at an exchange of %d floats "
                        + "(train.exchange_timeout_s): a worker stalled", rank(), waited / 1e9, data.length);
            }
            throw e;
        }
    }

    /** What stalled, when a call failed after waiting out the exchange timeout; else null. */
    String stall() {
        return stall;
    }
}
