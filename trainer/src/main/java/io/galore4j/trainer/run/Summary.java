package io.galore4j.trainer.run;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.galore4j.trainer.data.CorpusFingerprint;
import java.util.Map;

/**
 * {@code summary.json} of a training run (docs/run-files.md), written when it ends; {@code report}
 * and {@code plot} read every run's summary, a fine-tune's ({@link FinetuneSummary}) included,
 * through this record: what it does not name is ignored, and a field an older run lacks is null.
 *
 * @param steps           steps done (fewer than train.steps when train.time_limit_s ended the run)
 * @param wallS           seconds the run took, earlier processes of a resumed run included
 * @param tokensPerS      tokens per second of training, evaluation time left out
 * @param memoryEstimate  the estimate the run was checked against before it started
 * @param memory          the memory the run held, by component
 * @param weightFormats   per storage format, the parameters stored in it
 * @param resumedFromStep the checkpoint this process started from, when it resumed
 * @param valLossBefore   a fine-tune's validation loss before its first step
 * @param source          a fine-tune's starting model
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonPropertyOrder({"method", "steps", "tokens", "wall_s", "blas", "blas_threads", "tokens_per_s", "flops_per_token",
    "gflops_per_s", "val_loss", "val_ppl", "svd_count", "peak_rss_bytes", "memory_estimate", "params", "corpus",
    "memory", "weight_formats", "resumed_from_step", "val_loss_before", "source"})
public record Summary(String method, Long steps, Long tokens, Double wallS, String blas, Integer blasThreads,
        Double tokensPerS, Double flopsPerToken, Double gflopsPerS, Double valLoss, Double valPpl, Long svdCount,
        Long peakRssBytes, Map<String, Object> memoryEstimate, Long params, CorpusFingerprint corpus, Memory memory,
        Map<String, Object> weightFormats, Long resumedFromStep, Double valLossBefore, String source)
        implements RunSummary {

    /**
     * Bytes by component. A training run's: weights (with their scales and decode pool), optimizer
     * states, projection bases and scratch, gradients, activations, and their total; a fine-tune
     * has no optimizer, projection or gradients.
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonPropertyOrder({"weights", "optimizer", "projection", "gradients", "activations", "total"})
    public record Memory(Long weights, Long optimizer, Long projection, Long gradients, Long activations, Long total) {

        /** The components with their sum as the total. */
        public static Memory of(long weights, long optimizer, long projection, long gradients, long activations) {
            return new Memory(weights, optimizer, projection, gradients, activations,
                    weights + optimizer + projection + gradients + activations);
        }
    }
}
