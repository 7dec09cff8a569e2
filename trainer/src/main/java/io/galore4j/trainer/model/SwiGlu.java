package io.galore4j.trainer.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The SwiGLU gate of LLaMA's MLP (Shazeer 2020): a = silu(gate) ⊙ up with
 * silu(z) = z σ(z); the MLP is down(a) with gate = x W_gateᵀ, up = x W_upᵀ.
 */
final class SwiGlu {

    private SwiGlu() {
    }

    /** act = silu(gate) ⊙ up, elementwise. */
    static void forward(INDArray gate, INDArray up, INDArray act) {
        Elements g = Elements.of(gate);
        Elements u = Elements.of(up);
        Elements a = Elements.of(act);
        int n = Math.toIntExact(gate.length());
        for (int i = 0; i < n; i++) {
            double z = g.get(i);
            a.set(i, z / (1.0 + Math.exp(-z)) * u.get(i));
        }
    }

    /**
     * dUp = dAct ⊙ silu(gate); dGate = dAct ⊙ up ⊙ σ(gate)(1 + gate(1 − σ(gate))).
     */
    static void backward(INDArray dAct, INDArray gate, INDArray up, INDArray dGate, INDArray dUp) {
        Elements da = Elements.of(dAct);
        Elements g = Elements.of(gate);
        Elements u = Elements.of(up);
        Elements dg = Elements.of(dGate);
        Elements du = Elements.of(dUp);
        int n = Math.toIntExact(gate.length());
        for (int i = 0; i < n; i++) {
            double z = g.get(i);
            double s = 1.0 / (1.0 + Math.exp(-z));
            double d = da.get(i);
            du.set(i, d * z * s);
            dg.set(i, d * u.get(i) * s * (1.0 + z * (1.0 - s)));
        }
    }
}
