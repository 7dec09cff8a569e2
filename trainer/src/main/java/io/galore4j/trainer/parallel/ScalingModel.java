package io.galore4j.trainer.parallel;

/**
 * The modelled throughput of N data-parallel workers on N machines (docs/benchmarks.md), from a
 * step's measured compute time and its counted exchange: each worker computes its batch in
 * {@code computeS}, then the ring all-reduce moves 2(N − 1)/N of each worker's {@code bytes}
 * over its link in 2(N − 1) rounds per call, each round costing {@code latencyS}; the exchange is
 * not overlapped with compute. The speed-up is N workers' tokens per second over one worker's:
 * N · compute / (compute + exchange).
 *
 * @param computeS one worker's compute time per step (forward, backward, optimizer), seconds
 * @param bytes    bytes each worker puts into the all-reduce per step
 * @param calls    all-reduce calls per step
 * @param latencyS the cost of one round of one call, seconds
 */
public record ScalingModel(double computeS, double bytes, double calls, double latencyS) {

    public ScalingModel {
        if (!(computeS > 0) || !(bytes >= 0) || !(calls >= 0) || !(latencyS >= 0)) {
            throw new IllegalArgumentException("scaling model: compute time must be > 0 and bytes, calls and latency"
                    + " >= 0, got " + computeS + ", " + bytes + ", " + calls + ", " + latencyS);
        }
    }

    /** Seconds of one step's exchange with {@code workers} workers on links of {@code gbitPerS} Gb/s. */
    public double exchangeS(int workers, double gbitPerS) {
        if (workers < 2) {
            return 0;
        }
        double rounds = 2.0 * (workers - 1);
        return rounds / workers * bytes * 8 / (gbitPerS * 1e9) + rounds * calls * latencyS;
    }

    /** Tokens per second of {@code workers} workers over one worker's. */
    public double speedUp(int workers, double gbitPerS) {
        return workers * computeS / (computeS + exchangeS(workers, gbitPerS));
    }
}
