package io.galore4j.trainer.model;

import io.galore4j.trainer.model.Workspace.BlockActivations;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One LLaMA decoder block (pre-norm): x1 = x + Attn(RMSNorm(x)), out = x1 + MLP(RMSNorm(x1)),
 * with Attn = o_proj(causal attention(RoPE(q_proj), RoPE(k_proj), v_proj)) and
 * MLP = down_proj(silu(gate_proj) ⊙ up_proj). It holds no weights: each is fetched from the
 * {@link WeightSource} right before its use and not kept.
 */
final class DecoderBlock {

    private final ModelConfig config;
    private final Rope rope;
    private final int layer;
    private final String inputNorm;
    private final String postNorm;
    private final String wq;
    private final String wk;
    private final String wv;
    private final String wo;
    private final String wGate;
    private final String wUp;
    private final String wDown;

    DecoderBlock(ModelConfig config, Rope rope, int layer) {
        this.config = config;
        this.rope = rope;
        this.layer = layer;
        inputNorm = LlamaParameters.inputNorm(layer);
        postNorm = LlamaParameters.postAttentionNorm(layer);
        wq = LlamaParameters.attention(layer, 'q');
        wk = LlamaParameters.attention(layer, 'k');
        wv = LlamaParameters.attention(layer, 'v');
        wo = LlamaParameters.attention(layer, 'o');
        wGate = LlamaParameters.mlp(layer, "gate");
        wUp = LlamaParameters.mlp(layer, "up");
        wDown = LlamaParameters.mlp(layer, "down");
    }

    int layer() {
        return layer;
    }

    /** out = block(x), keeping in {@code a} what backward needs. */
    void forward(WeightSource weights, Workspace ws, BlockActivations a, INDArray x, INDArray out) {
        int b = ws.batch;
        int t = ws.seq;
        double eps = config.normEps();
        RmsNorm.forward(x, weights.weight(inputNorm), eps, a.xn1, a.invRms1);
        ws.linear.forward(a.xn1, weights.weight(wq), ws.qFlat, false);
        ws.linear.forward(a.xn1, weights.weight(wk), ws.kFlat, false);
        ws.linear.forward(a.xn1, weights.weight(wv), ws.vFlat, false);
        rope.rotateToHeads(ws.qFlat, b, t, a.q);
        rope.rotateToHeads(ws.kFlat, b, t, a.k);
        rope.copyToHeads(ws.vFlat, b, t, a.v);
        CausalAttention.forward(a.q, a.k, a.v, a.p, ws.oHeads);
        rope.copyFromHeads(ws.oHeads, b, t, a.o);
        a.x1.assign(x);
        ws.linear.forward(a.o, weights.weight(wo), a.x1, true);

        RmsNorm.forward(a.x1, weights.weight(postNorm), eps, a.xn2, a.invRms2);
        ws.linear.forward(a.xn2, weights.weight(wGate), a.gate, false);
        ws.linear.forward(a.xn2, weights.weight(wUp), a.up, false);
        SwiGlu.forward(a.gate, a.up, a.act);
        out.assign(a.x1);
        ws.linear.forward(a.act, weights.weight(wDown), out, true);
    }

    /**
     * Given dStream = dL/d(out), replaces it by dL/dx and hands the block's nine gradients to
     * {@code sink}, each after the last use of its weight.
     */
    void backward(WeightSource weights, Workspace ws, BlockActivations a, INDArray x, INDArray dStream,
                  GradientSink sink) {
        int b = ws.batch;
        int t = ws.seq;
        INDArray dNormed = ws.dNormed;

        // MLP: out = x1 + act W_downᵀ
        linearBackward(ws, weights, wDown, dStream, a.act, ws.dAct, false, ws.gradHiddenInter, sink);
        SwiGlu.backward(ws.dAct, a.gate, a.up, ws.dGate, ws.dUp);
        linearBackward(ws, weights, wGate, ws.dGate, a.xn2, dNormed, false, ws.gradInterHidden, sink);
        linearBackward(ws, weights, wUp, ws.dUp, a.xn2, dNormed, true, ws.gradInterHidden, sink);
        RmsNorm.backward(dNormed, a.x1, a.invRms2, weights.weight(postNorm), dStream, ws.gradNorm);
        sink.accept(postNorm, ws.gradNorm);

        // attention: x1 = x + o W_oᵀ
        linearBackward(ws, weights, wo, dStream, a.o, ws.dAttnFlat, false, ws.gradHiddenHidden, sink);
        rope.copyToHeads(ws.dAttnFlat, b, t, ws.dOHeads);
        CausalAttention.backward(ws.dOHeads, a.q, a.k, a.v, a.p, ws.dP, ws.dQ, ws.dK, ws.dV);
        // the forward scratch qFlat/kFlat/vFlat is free now: it receives dq, dk, dv
        rope.unrotateFromHeads(ws.dQ, b, t, ws.qFlat);
        rope.unrotateFromHeads(ws.dK, b, t, ws.kFlat);
        rope.copyFromHeads(ws.dV, b, t, ws.vFlat);
        linearBackward(ws, weights, wq, ws.qFlat, a.xn1, dNormed, false, ws.gradHiddenHidden, sink);
        linearBackward(ws, weights, wk, ws.kFlat, a.xn1, dNormed, true, ws.gradHiddenHidden, sink);
        linearBackward(ws, weights, wv, ws.vFlat, a.xn1, dNormed, true, ws.gradHiddenHidden, sink);
        RmsNorm.backward(dNormed, x, a.invRms1, weights.weight(inputNorm), dStream, ws.gradNorm);
        sink.accept(inputNorm, ws.gradNorm);
    }

    /**
     * The backward of y (+)= input Wᵀ for weight {@code w}: dInput (+)= dY W (added when
     * {@code accumulate}), grad = dYᵀ input, then the gradient goes to the sink.
     */
    private static void linearBackward(Workspace ws, WeightSource weights, String w, INDArray dY, INDArray input,
            INDArray dInput, boolean accumulate, INDArray grad, GradientSink sink) {
        ws.linear.backward(dY, weights.weight(w), input, dInput, accumulate, grad);
        sink.accept(w, grad);
    }
}
