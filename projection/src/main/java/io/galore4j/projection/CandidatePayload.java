package io.galore4j.projection;

import static io.galore4j.quant.ExactFloats.getLong;
import static io.galore4j.quant.ExactFloats.putLong;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A {@link BasisCandidate} as the floats one replica broadcasts to the others in data-parallel
 * training (docs/design.md §3.9): one owner replica computes the basis of the summed gradient,
 * every replica (the owner too) rebuilds the candidate from the broadcast floats, so the bases,
 * the statistics and the solver's draw count are bit-identical everywhere. The broadcast is a sum
 * to which the other replicas contribute zeros, so every value travels as a float that such a sum
 * keeps exactly (a −0.0f arrives as +0.0f, which is why the owner too uses the broadcast copy).
 * <pre>
 *   [0]            status: 1 = a basis follows, 0 = the owner's computation failed
 *   [1, 17)        cosine, ‖G‖²_F, the solve's milliseconds and the solver's call count after it:
 *                  each a 64-bit pattern as four 16-bit integers (exact in fp32)
 *   [17]           how many singular values follow (at most {@link #singularValues})
 *   [18, 18 + s)   the leading singular values, s = {@link #singularValues}(rank) slots
 *   then           the stored basis ({@link BasisStore#writePayload}): fp32 Pᵀ, or INT4 codes
 *                  (3 bytes per float as an integer), scales, zero points and the fp32 first vector
 * </pre>
 */
final class CandidatePayload {
    private static final int STATUS = 0;
    private static final int COSINE = 1;
    private static final int ENERGY = 5;
    private static final int MILLIS = 9;
    private static final int CALLS = 13;
    private static final int SIGMAS = 17;
    static final int HEADER = 18;

    private CandidatePayload() {
    }

    /** Singular-value slots sent for rank r: the statistics keep the leading 8 and the energy sums the first r. */
    static int singularValues(int rank) {
        return Math.max(rank, 8);
    }

    static long floats(int bits, long rank, long dimension, long singularValues) {
        return HEADER + singularValues + BasisStore.payloadFloats(bits, rank, dimension);
    }

    /** Writes {@code c} (status 1) into {@code out}, whose length is {@link #floats} for the store's format. */
    static void write(BasisCandidate c, BasisStore store, int rank, float[] out) {
        out[STATUS] = 1f;
        putLong(out, COSINE, Double.doubleToRawLongBits(c.cosine));
        putLong(out, ENERGY, Double.doubleToRawLongBits(c.totalEnergy));
        putLong(out, MILLIS, Double.doubleToRawLongBits(c.millis));
        putLong(out, CALLS, c.solverCalls);
        int slots = singularValues(rank);
        int s = Math.min(c.sigma.length, slots);
        out[SIGMAS] = s;
        System.arraycopy(c.sigma, 0, out, HEADER, s);
        store.writePayload(c.basisT, c.codes, c.first, out, HEADER + slots);
    }

    /**
     * The candidate {@code in} describes, for {@code owner} at {@code step}.
     *
     * @throws IllegalArgumentException when the status says the owner's computation failed
     */
    static BasisCandidate read(Projector owner, long step, BasisStore store, int rank, float[] in) {
        if (in[STATUS] != 1f) {
            throw new IllegalArgumentException("the basis computation for layer " + owner.layer()
                    + " failed on the replica that owns it");
        }
        int slots = singularValues(rank);
        int s = (int) in[SIGMAS];
        if (s < 0 || s > slots) {
            throw new IllegalArgumentException("basis payload of layer " + owner.layer() + ": " + s + " singular values");
        }
        float[] sigma = new float[s];
        System.arraycopy(in, HEADER, sigma, 0, s);
        BasisStore.Decoded d = store.readPayload(in, HEADER + slots);
        INDArray basisT = d.basisT();
        return new BasisCandidate(owner, step, basisT, d.codes(), d.first(),
                Double.longBitsToDouble(getLong(in, COSINE)), sigma, Double.longBitsToDouble(getLong(in, ENERGY)),
                Double.longBitsToDouble(getLong(in, MILLIS)), getLong(in, CALLS));
    }
}
