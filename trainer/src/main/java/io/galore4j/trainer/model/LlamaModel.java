package io.galore4j.trainer.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A LLaMA-style decoder (Touvron et al. 2023) with hand-written forward and backward passes over
 * ND4J arrays: token embedding, {@code layers} pre-norm blocks ({@link DecoderBlock}: RMSNorm →
 * causal multi-head attention with RoPE → residual → RMSNorm → SwiGLU MLP → residual), a final
 * RMSNorm, an untied output head and the mean next-token cross-entropy in nats. No biases.
 *
 * <p>The model owns no weights: it reads them from a {@link WeightSource} just in time and computes
 * in their data type (FLOAT for training, DOUBLE for gradient checks). Backward delivers each
 * gradient to a {@link GradientSink} as soon as it is complete (layer-wise update with gradient
 * release); see {@link GradientSink} for the exact contract.
 *
 * <p>Projections are 2-D GEMMs over the B·T rows of the batch; attention uses batched matmuls
 * per (batch, head); elementwise parts are Java loops. Buffers live in a workspace reused while
 * batch size, sequence length, data type and checkpointing stay the same. Not thread-safe.
 */
public final class LlamaModel {

    private final ModelConfig config;
    private final WeightSource weights;
    private final DecoderBlock[] blocks;
    private final Compute compute;
    private boolean checkpointActivations;
    private Workspace workspace;

    public LlamaModel(ModelConfig config, WeightSource weights) {
        this(config, weights, Compute.FP32);
    }

    /**
     * A model whose weight products run in {@code compute}'s arithmetic; {@link Compute#BF16}
     * needs FLOAT weights.
     */
    public LlamaModel(ModelConfig config, WeightSource weights, Compute compute) {
        this.config = java.util.Objects.requireNonNull(config, "config");
        this.weights = java.util.Objects.requireNonNull(weights, "weights");
        this.compute = java.util.Objects.requireNonNull(compute, "compute");
        Rope rope = new Rope(config.heads(), config.headDim(), config.seqLen(), config.ropeTheta());
        blocks = new DecoderBlock[config.layers()];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = new DecoderBlock(config, rope, i);
        }
    }

    public ModelConfig config() {
        return config;
    }

    /** The arithmetic of the weight products. */
    public Compute compute() {
        return compute;
    }

    /** The working memory allocated so far (zero before the first batch). */
    public ActivationMemory workspaceMemory() {
        if (workspace == null) {
            return new ActivationMemory(0, 0);
        }
        int width = workspace.type.width();
        return new ActivationMemory(workspace.activationElements * width + workspace.bf16Bytes,
                workspace.gradientElements * width);
    }

    /**
     * Activation checkpointing per block: forward keeps only each block's input, and backward
     * recomputes the block's forward right before its backward. Saves memory (the attention
     * probabilities and MLP activations of all but one block) for about one extra forward;
     * results are identical.
     */
    public void setCheckpointActivations(boolean on) {
        checkpointActivations = on;
    }

    public boolean checkpointActivations() {
        return checkpointActivations;
    }

    /**
     * Forward and backward on one batch: row b holds T+1 tokens (1 ≤ T ≤ seqLen, the same T for
     * every row); positions 0…T−1 are the inputs and 1…T the targets. Every gradient of the mean
     * loss goes to {@code sink} in {@link LlamaParameters#backwardOrder}.
     *
     * @return the mean cross-entropy over the B·T predictions, in nats
     */
    public double forwardBackward(int[][] batch, GradientSink sink) {
        return forwardBackward(batch, loss -> true, sink);
    }

    /**
     * As {@link #forwardBackward(int[][], GradientSink)}, but the backward pass runs only when
     * {@code proceed} accepts the loss of the forward pass (a trainer skips a non-finite loss
     * before any gradient reaches a layer-wise optimizer).
     */
    public double forwardBackward(int[][] batch, java.util.function.DoublePredicate proceed, GradientSink sink) {
        java.util.Objects.requireNonNull(sink, "sink");
        Workspace ws = prepare(batch, checkpointActivations);
        int[] inputs = inputs(batch, ws.seq);
        double loss = forward(ws, inputs, targets(batch, ws.seq), true);
        if (proceed.test(loss)) {
            backward(ws, inputs, sink);
        }
        return loss;
    }

    /** The mean cross-entropy of {@code batch} (as in {@link #forwardBackward}), forward only. */
    public double loss(int[][] batch) {
        Workspace ws = prepare(batch, null);
        return forward(ws, inputs(batch, ws.seq), targets(batch, ws.seq), false);
    }

    /**
     * The next-token logits for {@code tokens} (B rows of T ≤ seqLen tokens): a new array
     * [B, T, vocab], where [b, t, :] predicts the token after position t.
     */
    public INDArray logits(int[][] tokens) {
        int[][] padded = new int[tokens.length][];
        for (int b = 0; b < tokens.length; b++) {
            if (tokens[b] == null) {
                throw new IllegalArgumentException("tokens[" + b + "] is null");
            }
            padded[b] = java.util.Arrays.copyOf(tokens[b], tokens[b].length + 1);
        }
        Workspace ws = prepare(padded, null);
        forward(ws, inputs(padded, ws.seq), null, false);
        return ws.logits.dup('c').reshape('c', tokens.length, ws.seq, config.vocab());
    }

    private double forward(Workspace ws, int[] inputs, int[] targets, boolean keepForBackward) {
        INDArray embed = weights.weight(LlamaParameters.EMBED_TOKENS);
        Embedding.lookup(embed, inputs, ws.streams[0]);
        for (DecoderBlock block : blocks) {
            int i = block.layer();
            block.forward(weights, ws, ws.block(i), ws.streams[i], ws.streams[i + 1]);
        }
        INDArray last = ws.streams[config.layers()];
        RmsNorm.forward(last, weights.weight(LlamaParameters.FINAL_NORM), config.normEps(), ws.finalNormed,
                ws.finalInvRms);
        ws.linear.forward(ws.finalNormed, weights.weight(LlamaParameters.LM_HEAD), ws.logits, false);
        return targets == null ? Double.NaN : CrossEntropy.lossAndGradient(ws.logits, targets, keepForBackward);
    }

    private void backward(Workspace ws, int[] inputs, GradientSink sink) {
        // head: logits = xf W_headᵀ; ws.logits now holds dL/dlogits
        INDArray dNormed = ws.dNormed;
        ws.linear.backward(ws.logits, weights.weight(LlamaParameters.LM_HEAD), ws.finalNormed, dNormed, false,
                ws.gradVocabHidden);
        sink.accept(LlamaParameters.LM_HEAD, ws.gradVocabHidden);
        INDArray dStream = ws.dStream;
        dStream.assign(0.0);
        RmsNorm.backward(dNormed, ws.streams[config.layers()], ws.finalInvRms,
                weights.weight(LlamaParameters.FINAL_NORM), dStream, ws.gradNorm);
        sink.accept(LlamaParameters.FINAL_NORM, ws.gradNorm);
        for (int i = blocks.length - 1; i >= 0; i--) {
            if (ws.checkpointed) {
                blocks[i].forward(weights, ws, ws.block(i), ws.streams[i], ws.recomputed);
            }
            blocks[i].backward(weights, ws, ws.block(i), ws.streams[i], dStream, sink);
        }
        Embedding.backward(dStream, inputs, ws.gradVocabHidden);
        sink.accept(LlamaParameters.EMBED_TOKENS, ws.gradVocabHidden);
    }

    /**
     * Validates the batch and returns a workspace of its shape; {@code checkpointed} null (forward
     * only) accepts either mode and allocates the smaller, checkpointed one if needed.
     */
    private Workspace prepare(int[][] batch, Boolean checkpointed) {
        if (batch == null || batch.length == 0) {
            throw new IllegalArgumentException("batch must have at least one row");
        }
        int len = -1;
        for (int b = 0; b < batch.length; b++) {
            int[] row = batch[b];
            if (row == null) {
                throw new IllegalArgumentException("batch[" + b + "] is null");
            }
            if (len < 0) {
                len = row.length;
            } else if (row.length != len) {
                throw new IllegalArgumentException("batch rows differ in length: batch[0] has " + len
                        + " tokens, batch[" + b + "] has " + row.length);
            }
            for (int t = 0; t < row.length; t++) {
                if (row[t] < 0 || row[t] >= config.vocab()) {
                    throw new IllegalArgumentException("batch[" + b + "][" + t + "] = " + row[t]
                            + " is not a token id in [0, " + config.vocab() + ")");
                }
            }
        }
        int seq = len - 1;
        if (seq < 1 || seq > config.seqLen()) {
            throw new IllegalArgumentException("batch rows must hold 2.." + (config.seqLen() + 1)
                    + " tokens (seq_len + 1), got " + len);
        }
        DataType type = weights.weight(LlamaParameters.FINAL_NORM).dataType();
        if (type != DataType.FLOAT && type != DataType.DOUBLE) {
            throw new IllegalArgumentException("weights must be FLOAT or DOUBLE, got " + type);
        }
        if (compute == Compute.BF16 && type != DataType.FLOAT) {
            throw new IllegalArgumentException("bf16 products need FLOAT weights, got " + type);
        }
        boolean mode = checkpointed == null ? true : checkpointed;
        boolean fits = workspace != null && (workspace.fits(type, batch.length, seq, mode)
                || checkpointed == null && workspace.fits(type, batch.length, seq, !mode));
        if (!fits) {
            workspace = null; // let the old buffers go before allocating new ones
            workspace = new Workspace(config, type, batch.length, seq, mode, compute);
        }
        return workspace;
    }

    private static int[] inputs(int[][] batch, int seq) {
        int[] out = new int[batch.length * seq];
        for (int b = 0; b < batch.length; b++) {
            System.arraycopy(batch[b], 0, out, b * seq, seq);
        }
        return out;
    }

    private static int[] targets(int[][] batch, int seq) {
        int[] out = new int[batch.length * seq];
        for (int b = 0; b < batch.length; b++) {
            System.arraycopy(batch[b], 1, out, b * seq, seq);
        }
        return out;
    }
}
