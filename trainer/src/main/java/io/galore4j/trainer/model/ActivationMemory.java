package io.galore4j.trainer.model;

import org.nd4j.linalg.api.buffer.DataType;

/**
 * Bytes of the model's working memory for one batch shape: activations kept for backward plus the
 * forward and backward scratch, and the gradient buffers (one per distinct weight shape, reused
 * after each layer-wise update). Exact for the buffers {@link LlamaModel} allocates, the bf16 products'
 * operand buffers and scratchpad included (counted with the activations).
 */
public record ActivationMemory(long activationBytes, long gradientBytes) {

    /** The memory a model of {@code config} uses for batches of {@code batch} × {@code seq}, computed without allocating. */
    public static ActivationMemory estimate(ModelConfig config, int batch, int seq, boolean checkpointed,
            DataType type) {
        return estimate(config, batch, seq, checkpointed, type, Compute.FP32);
    }

    /** As {@link #estimate(ModelConfig, int, int, boolean, DataType)} with the weight products in {@code compute}. */
    public static ActivationMemory estimate(ModelConfig config, int batch, int seq, boolean checkpointed,
            DataType type, Compute compute) {
        long[] e = Workspace.elements(config, batch, seq, checkpointed, type.width());
        return new ActivationMemory(e[0] * type.width() + Workspace.bf16Bytes(config, batch, seq, compute),
                e[1] * type.width());
    }

    public long total() {
        return activationBytes + gradientBytes;
    }
}
