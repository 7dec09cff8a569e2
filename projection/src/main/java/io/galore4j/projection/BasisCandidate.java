package io.galore4j.projection;

import io.galore4j.quant.QuantizedTensor;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A basis computed from one gradient and not yet in use: a refresh in two phases, so that a
 * refresh that fails, or whose update is rejected after it, leaves the projector as it was.
 * {@link Projector#propose} computes it without changing the projector,
 * {@link Projector#project(INDArray, BasisCandidate)} projects with it, and
 * {@link Projector#accept} makes it current (measures it against the old basis, tells the refresh
 * policy, advances the solver's draw count). Closing it without accepting drops it; accepting
 * closes it.
 *
 * <p>It holds Pᵀ as the projector will keep it (for an INT4 basis, its codes and their decoded
 * values, and its first vector as computed), the cosine of the first vectors, the singular values
 * and ‖G‖²_F for the statistics, and the solver's call count after the solve.
 */
public final class BasisCandidate implements AutoCloseable {
    final Projector owner;
    final long step;
    final INDArray basisT;
    final QuantizedTensor codes;
    final float[] first;
    final double cosine;
    final float[] sigma;
    final double totalEnergy;
    final double millis;
    final long solverCalls;
    private boolean closed;

    BasisCandidate(Projector owner, long step, INDArray basisT, QuantizedTensor codes, float[] first, double cosine,
            float[] sigma, double totalEnergy, double millis, long solverCalls) {
        this.owner = owner;
        this.step = step;
        this.basisT = basisT;
        this.codes = codes;
        this.first = first;
        this.cosine = cosine;
        this.sigma = sigma;
        this.totalEnergy = totalEnergy;
        this.millis = millis;
        this.solverCalls = solverCalls;
    }

    /**
     * Floats of a candidate as one replica broadcasts it to the others in data-parallel training
     * ({@link Projector#writePayload}): an 18-float header (status, cosine, ‖G‖²_F, solve time,
     * solver calls, count of singular values), {@code singularValues} slots, and the stored r×d
     * basis: fp32, r·d; INT4 ({@code bits} 4), the ⌈r·d/2⌉ code bytes packed three per float,
     * an fp32 scale and zero point per group of 256 codes, and the fp32 first vector (d).
     */
    public static long payloadFloats(int bits, long rank, long dimension, long singularValues) {
        return CandidatePayload.floats(bits, rank, dimension, singularValues);
    }

    /** The singular values a payload carries for rank r: max(r, 8) (the energy uses r, the statistics the leading 8). */
    public static int singularValuesSent(int rank) {
        return CandidatePayload.singularValues(rank);
    }

    /** The optimizer step of the gradient it was computed from. */
    public long step() {
        return step;
    }

    /** Throws unless it is still open and was proposed by {@code p}. */
    void checkUsableBy(Projector p) {
        if (owner != p) {
            throw new IllegalArgumentException("basis candidate of layer " + owner.layer() + " used by layer " + p.layer());
        }
        if (closed) {
            throw new IllegalStateException("basis candidate of layer " + p.layer() + " was already accepted or dropped");
        }
    }

    /** Frees the candidate's basis (idempotent). */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            basisT.close();
        }
    }
}
