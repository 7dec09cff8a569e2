package io.galore4j.trainer.sample;

import io.galore4j.trainer.model.LlamaModel;
import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Autoregressive generation: each new token is picked from the logits of the last position,
 * computed over a window of the last {@code seqLen} tokens (the full forward is recomputed per
 * token; there is no key/value cache).
 */
public final class TextGenerator {

    private final LlamaModel model;
    private final int tokenizerVocab;

    /**
     * @param tokenizerVocab picks are restricted to tokens {@code 0 … tokenizerVocab−1}, the ones
     *                       the tokenizer can decode (the model's vocabulary may be larger)
     */
    public TextGenerator(LlamaModel model, int tokenizerVocab) {
        if (tokenizerVocab <= 0 || tokenizerVocab > model.config().vocab()) {
            throw new IllegalArgumentException("tokenizer vocabulary " + tokenizerVocab
                    + " does not fit the model's vocabulary of " + model.config().vocab());
        }
        this.model = model;
        this.tokenizerVocab = tokenizerVocab;
    }

    /** The {@code count} tokens that follow {@code prompt} (non-empty), picked by {@code sampler}. */
    public int[] generate(int[] prompt, int count, Sampler sampler) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt is empty");
        }
        int seqLen = model.config().seqLen();
        int[] all = Arrays.copyOf(prompt, prompt.length + count);
        for (int n = prompt.length; n < all.length; n++) {
            int from = Math.max(0, n - seqLen);
            float[] last = lastLogits(Arrays.copyOfRange(all, from, n));
            all[n] = sampler.next(last, tokenizerVocab);
        }
        return Arrays.copyOfRange(all, prompt.length, all.length);
    }

    /** The next-token logits after the last of {@code window} (at most seqLen tokens). */
    public float[] lastLogits(int[] window) {
        INDArray logits = model.logits(new int[][] {window});
        try {
            return logits.slice(0).getRow(window.length - 1).toFloatVector();
        } finally {
            logits.close();
        }
    }
}
