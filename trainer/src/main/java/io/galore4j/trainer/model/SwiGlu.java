package io.galore4j.trainer.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The SwiGLU gate of LLaMA's MLP (Shazeer 2020): a = silu(gate) ⊙ up with
 * silu(z) = z σ(z); the MLP is down(a) with gate = x W_gateᵀ, up = x W_upᵀ.
 */
final class SwiGlu {

    private SwiGlu() {
    }

    /** The work on one chunk [from, from + len) given z = gate, v = up and e = exp(−gate) there. */
    private interface Chunk {
        void apply(int from, int len, double[] z, double[] v, double[] e);
    }

    /** act = silu(gate) ⊙ up, elementwise. */
    static void forward(INDArray gate, INDArray up, INDArray act) {
        Elements a = Elements.of(act);
        forEachChunk(gate, up, (from, len, z, v, e) -> {
            for (int i = 0; i < len; i++) {
                z[i] = z[i] / (1.0 + e[i]) * v[i];
            }
            a.write(z, 0, len, from);
        });
    }

    /**
     * dUp = dAct ⊙ silu(gate); dGate = dAct ⊙ up ⊙ σ(gate)(1 + gate(1 − σ(gate))).
     */
    static void backward(INDArray dAct, INDArray gate, INDArray up, INDArray dGate, INDArray dUp) {
        Elements da = Elements.of(dAct);
        Elements dg = Elements.of(dGate);
        Elements du = Elements.of(dUp);
        double[] d = Elements.buffer(0, Elements.CHUNK);
        forEachChunk(gate, up, (from, len, z, v, e) -> {
            da.read(from, len, d, 0);
            for (int i = 0; i < len; i++) {
                double s = 1.0 / (1.0 + e[i]);
                double dGateI = d[i] * v[i] * s * (1.0 + z[i] * (1.0 - s));
                v[i] = d[i] * z[i] * s; // dUp
                z[i] = dGateI;
            }
            dg.write(z, 0, len, from);
            du.write(v, 0, len, from);
        });
    }

    /** Walks gate and up in chunks of {@link Elements#CHUNK}, staging each with exp(−gate) for {@code work}. */
    private static void forEachChunk(INDArray gate, INDArray up, Chunk work) {
        Elements g = Elements.of(gate);
        Elements u = Elements.of(up);
        double[] z = Elements.buffer(1, Elements.CHUNK);
        double[] v = Elements.buffer(2, Elements.CHUNK);
        double[] e = Elements.buffer(3, Elements.CHUNK);
        int n = Math.toIntExact(gate.length());
        for (int from = 0; from < n; from += Elements.CHUNK) {
            int len = Math.min(Elements.CHUNK, n - from);
            g.read(from, len, z, 0);
            u.read(from, len, v, 0);
            Exp.affine(z, 0, e, 0, len, -1.0, 0.0);
            work.apply(from, len, z, v, e);
        }
    }
}
