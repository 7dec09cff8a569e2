package io.galore4j.trainer.run;

import com.fasterxml.jackson.annotation.JsonAlias;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.galore4j.trainer.data.CorpusFingerprint;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code summary.json} of a training run (docs/run-files.md), written when it ends; {@code report}
 * and {@code plot} read every run's summary, a fine-tune's ({@link FinetuneSummary}) included,
 * through this record: what it does not name is ignored, and a field an older run lacks is null.
 *
 * @param steps           steps done (fewer than train.steps when train.time_limit_s ended the run)
 * @param wallS           seconds the run took, earlier processes of a resumed run included
 * @param compute         the weight products' arithmetic this process used (fp32 or bf16; train.compute resolved)
 * @param tokensPerS      tokens per second of training, evaluation time left out
 * @param memoryEstimate  the estimate the run was checked against before it started
 * @param memory          the memory the run held, by component
 * @param weightFormats   per storage format, the parameters stored in it
 * @param resumedFromStep the checkpoint this process started from, when it resumed
 * @param valLossBefore   a fine-tune's validation loss before its first step
 * @param source          a fine-tune's starting model
 * @param exchange        a data-parallel run's exchange between its workers
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonPropertyOrder({"method", "steps", "tokens", "wall_s", "blas", "blas_threads", "compute", "tokens_per_s", "flops_per_token",
    "gflops_per_s", "val_loss", "val_ppl", "svd_count", "peak_rss_bytes", "memory_estimate", "params", "corpus",
    "memory", "weight_formats", "resumed_from_step", "val_loss_before", "source", "exchange"})
public record Summary(String method, Long steps, Long tokens, Double wallS, String blas, Integer blasThreads,
        String compute, Double tokensPerS, Double flopsPerToken, Double gflopsPerS, Double valLoss, Double valPpl, Long svdCount,
        Long peakRssBytes, Memory memoryEstimate, Long params, CorpusFingerprint corpus, Memory memory,
        Map<String, Object> weightFormats, Long resumedFromStep, Double valLossBefore, String source,
        Exchange exchange)
        implements RunSummary {

    /**
     * What one worker of a data-parallel run sent to the collective over the steps of this
     * process (docs/run-files.md): gradient bytes by kind as counted, their total beside the
     * formula's ({@code galore memory --exchange}) and beside exchanging every full gradient,
     * and the control traffic (losses, stop flags, replica checks) apart.
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Exchange(Integer workers, Long steps, Long gradientBytes, Long projectedBytes,
            Long refreshGradientBytes, Long basisBytes, Long countedBytes, Long formulaBytes, Long fullGradientBytes,
            Double saving, Long calls, Long controlBytes, Long controlCalls, Double exchangeS) {}

    /**
     * A run's memory by component, as {@code galore memory} accounts it: summary.json's
     * {@code memory} (what the run held) and {@code memory_estimate} (what it was checked against
     * before it started) share this form. A fine-tune reports its own components
     * ({@link FinetuneSummary.Memory}), of which this reads the weights, activations and total; a run
     * written before the account was shared reads with the components it has, its {@code total} as
     * {@link #totalBytes}.
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonPropertyOrder({"method", "params", "batch", "seq", "checkpoint_activations", "weights", "weight_pool",
        "gradients", "optimizer_m", "optimizer_v", "projection", "refresh", "exchange_buffers", "activations", "data",
        "runtime",
        "activations_checkpointed", "activations_full", "persistent_bytes_per_param",
        "accumulation_bytes_per_param", "total_bytes"})
    public record Memory(String method, Long params, Integer batch, Integer seq, Boolean checkpointActivations,
            Long weights, Long weightPool, Long gradients, Long optimizerM, Long optimizerV, Long projection,
            Long refresh, Long exchangeBuffers, Long activations, Long data, Long runtime, Long activationsCheckpointed,
            Long activationsFull, Double persistentBytesPerParam, Double accumulationBytesPerParam,
            @JsonAlias("total") Long totalBytes) {

        /** The components by their summary.json names, in the order {@code galore memory} lists them. */
        public Map<String, Long> components() {
            Map<String, Long> c = new LinkedHashMap<>();
            c.put("weights", weights);
            c.put("weight_pool", weightPool);
            c.put("gradients", gradients);
            c.put("optimizer_m", optimizerM);
            c.put("optimizer_v", optimizerV);
            c.put("projection", projection);
            c.put("refresh", refresh);
            c.put("exchange_buffers", exchangeBuffers);
            c.put("activations", activations);
            c.put("data", data);
            c.put("runtime", runtime);
            return c;
        }
    }
}
