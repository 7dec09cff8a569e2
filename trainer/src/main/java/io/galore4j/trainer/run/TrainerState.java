package io.galore4j.trainer.run;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.galore4j.trainer.data.CorpusFingerprint;
import java.util.List;
import java.util.Map;

/**
 * The trainer's part of a checkpoint's {@code trainer.json} (besides the format, the step and the
 * optimizer's state, which {@link Checkpoints} adds): what a resumed run needs to continue as if
 * it had not stopped (docs/design.md §2).
 *
 * @param tokens   tokens trained on so far
 * @param prevNorm the gradient norm of the last step, which clips the next (null before the first)
 * @param valLoss  the last validation loss (null before the first evaluation)
 * @param sampler  the batch sampler's state (two integers)
 * @param elapsedS seconds of the run so far, all its processes
 * @param evalS    seconds of those spent evaluating
 * @param config   the settings the run must be resumed with (TrainJob's fingerprint)
 * @param corpus   the corpus's size and hash
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonPropertyOrder({"tokens", "prev_norm", "val_loss", "sampler", "elapsed_s", "eval_s", "config", "corpus"})
public record TrainerState(Long tokens, Double prevNorm, Double valLoss, List<Long> sampler, Double elapsedS,
        Double evalS, Map<String, Object> config, CorpusFingerprint corpus) {

    /** The fields in file order, for {@link Checkpoints#write}. */
    public Map<String, Object> toMap() {
        return RunJson.MAPPER.convertValue(this, new TypeReference<>() { });
    }

    /**
     * Reads the state from a checkpoint's {@code trainer.json} ({@link Checkpoints.Loaded#trainer});
     * IllegalArgumentException naming the field that is missing or of the wrong type.
     */
    public static TrainerState from(Map<String, Object> trainer) {
        TrainerState t;
        try {
            t = RunJson.MAPPER.convertValue(trainer, TrainerState.class);
        } catch (IllegalArgumentException e) {
            Throwable cause = e.getCause() instanceof com.fasterxml.jackson.databind.JsonMappingException m ? m : e;
            String field = cause instanceof com.fasterxml.jackson.databind.JsonMappingException m && !m.getPath().isEmpty()
                    ? m.getPath().get(0).getFieldName() : "a field";
            throw new IllegalArgumentException(field + " has the wrong type", e);
        }
        require(t.tokens, "tokens");
        require(t.elapsedS, "elapsed_s");
        require(t.evalS, "eval_s");
        if (t.sampler == null || t.sampler.size() != 2 || t.sampler.contains(null)) {
            throw new IllegalArgumentException("sampler must be two integers");
        }
        return t;
    }

    private static void require(Object value, String key) {
        if (value == null) {
            throw new IllegalArgumentException(key + " must be a number, got null");
        }
    }
}
