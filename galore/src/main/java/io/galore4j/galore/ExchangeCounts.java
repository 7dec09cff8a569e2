package io.galore4j.galore;

/**
 * What a data-parallel optimizer has exchanged with the other replicas since it was created,
 * counted where the calls are made (docs/design.md §3.9). Floats are those passed to each sum or
 * broadcast (what this replica sends and receives once each).
 *
 * @param gradientFloats        full gradients of full-rank parameters (bucketed small ones included)
 * @param projectedFloats       projected gradients R of GaLore parameters
 * @param refreshGradientFloats full gradients G summed at basis refreshes (m·n per refresh)
 * @param basisFloats           broadcast basis candidates (header, singular values, stored basis)
 * @param calls                 calls to {@link Replicas#sumInPlace} or {@link Replicas#broadcast}
 * @param nanos                 wall time spent inside those calls
 */
public record ExchangeCounts(long gradientFloats, long projectedFloats, long refreshGradientFloats, long basisFloats,
        long calls, long nanos) {

    /** Nothing exchanged (a single process). */
    public static final ExchangeCounts NONE = new ExchangeCounts(0, 0, 0, 0, 0, 0);

    /** Every float exchanged, of all kinds. */
    public long floats() {
        return gradientFloats + projectedFloats + refreshGradientFloats + basisFloats;
    }
}
