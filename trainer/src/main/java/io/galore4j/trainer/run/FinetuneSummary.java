package io.galore4j.trainer.run;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * {@code summary.json} of a gradient-free fine-tune (QZO, or the evaluation of a model), read
 * back by {@code report} and {@code plot} as a {@link Summary}, whose fields it shares.
 *
 * @param weights      how the weights are stored: int{bits} for QZO, fp32 otherwise
 * @param trainS       seconds of training, evaluation time left out
 * @param valLoss      the validation loss of the model written (QZO: the best evaluated)
 * @param trainable    the trainable scales (QZO)
 * @param valLossLast  QZO: the validation loss after the last step
 * @param keptStep     QZO: the step whose scales the model written holds (0: the starting ones)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonPropertyOrder({"method", "source", "weights", "steps", "tokens", "wall_s", "train_s", "tokens_per_s",
    "val_loss_before", "val_loss", "val_ppl", "peak_rss_bytes", "params", "trainable", "memory", "val_loss_last",
    "kept_step"})
public record FinetuneSummary(String method, String source, String weights, long steps, long tokens, double wallS,
        double trainS, double tokensPerS, double valLossBefore, double valLoss, double valPpl, long peakRssBytes,
        long params, long trainable, Memory memory, Double valLossLast, Integer keptStep) implements RunSummary {

    /** Bytes by component: stored weights, decode buffers, the copy of the best scales, activations, total. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonPropertyOrder({"weights", "decode_buffers", "best_scales", "activations", "total"})
    public record Memory(long weights, long decodeBuffers, long bestScales, long activations, long total) {
    }
}
