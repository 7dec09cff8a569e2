package io.galore4j.projection;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Where a layer keeps its basis Pᵀ (r×d, fp32 c-order): as fp32, or (Q-GaLore) as INT4 codes with
 * one scale and zero point per group of 256 consecutive elements, decoded once per refresh into
 * the fp32 buffer that every projection reuses.
 */
final class BasisStore {
    private final int rank;
    private final int dimension;
    private final int bits;
    private final INDArray basisT;
    private boolean set;

    BasisStore(int rank, int dimension, int bits) {
        this.rank = rank;
        this.dimension = dimension;
        this.bits = bits;
        this.basisT = Nd4j.createUninitialized(DataType.FLOAT, rank, dimension);
        if (bits != 32) {
            throw new IllegalArgumentException("basisBits: only 32 is available in this build, got " + bits);
        }
    }

    int dimension() {
        return dimension;
    }

    /** Replaces {@code freshT} by what storing it gives back (identity for fp32). */
    void roundTrip(INDArray freshT) {
        // fp32: stored as is
    }

    /** Stores a new basis (already round-tripped). */
    void set(INDArray freshT) {
        basisT.assign(freshT);
        set = true;
    }

    boolean isSet() {
        return set;
    }

    /** The fp32 (decoded) Pᵀ. */
    INDArray basisT() {
        return basisT;
    }

    long storedBytes() {
        return 4L * rank * dimension;
    }
}
