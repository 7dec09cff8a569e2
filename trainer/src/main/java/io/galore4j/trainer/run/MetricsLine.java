package io.galore4j.trainer.run;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;

/**
 * One line of {@code metrics.jsonl}: a logged step. Fields a step does not have are null and left
 * out of the line; {@code loss} of a skipped step is written as null when it was not finite.
 *
 * @param step        the number of steps done (1-based)
 * @param skipped     why the step was skipped (no update), or null
 * @param loss        the training loss (mean over the micro-batches)
 * @param lr          the learning rate of the step
 * @param derivative  QZO: the projected directional derivative
 * @param estimate    QZO: the clipped estimate the update used
 * @param floored     QZO: how many scales hit the floor in the update
 * @param gradNorm    the global gradient norm measured during the step (docs/design.md §2)
 * @param tokens      tokens trained on so far
 * @param tokensPerS  tokens per second of training (evaluation time left out)
 * @param elapsedS    seconds since the run started (earlier processes of a resumed run included)
 * @param valLoss     the validation loss, on evaluation steps
 * @param valPpl      exp(valLoss), on evaluation steps
 * @param exchangeS     data-parallel: seconds this process spent in the gradient exchange so far
 * @param exchangeBytes data-parallel: gradient bytes this worker exchanged so far (this process)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonPropertyOrder({"step", "skipped", "loss", "lr", "derivative", "estimate", "floored", "grad_norm", "tokens",
    "tokens_per_s", "elapsed_s", "val_loss", "val_ppl", "exchange_s", "exchange_bytes"})
public record MetricsLine(long step, String skipped, @JsonSerialize(using = RunJson.NonFiniteAsNull.class) Double loss,
        Double lr, Double derivative, Double estimate, Long floored, Double gradNorm, Long tokens, Double tokensPerS,
        Double elapsedS, Double valLoss, Double valPpl, Double exchangeS, Long exchangeBytes) {

    /** A step of gradient training. */
    public static MetricsLine trained(long step, double loss, double lr, double gradNorm, long tokens,
            double tokensPerS, double elapsedS) {
        return new MetricsLine(step, null, loss, lr, null, null, null, gradNorm, tokens, tokensPerS, elapsedS,
                null, null, null, null);
    }

    /** A QZO step (docs/design.md §3): its loss at Δ and its derivative estimate. */
    public static MetricsLine zerothOrder(long step, double loss, double lr, double derivative, double estimate,
            long floored, long tokens, double tokensPerS, double elapsedS) {
        return new MetricsLine(step, null, loss, lr, derivative, estimate, floored, null, tokens, tokensPerS,
                elapsedS, null, null, null, null);
    }

    /**
     * A step skipped for {@code why}; {@code loss} is its loss when the run records one (NaN or an
     * infinity is written as null), null to leave it out.
     */
    public static MetricsLine skipped(long step, String why, Double loss) {
        return new MetricsLine(step, why, loss, null, null, null, null, null, null, null, null, null, null, null, null);
    }

    /** This line with the validation loss of an evaluation after the step. */
    public MetricsLine withEvaluation(double valLoss) {
        return new MetricsLine(step, skipped, loss, lr, derivative, estimate, floored, gradNorm, tokens, tokensPerS,
                elapsedS, valLoss, Math.exp(valLoss), exchangeS, exchangeBytes);
    }

    /** This line with a data-parallel worker's exchange so far (docs/design.md §3.9). */
    public MetricsLine withExchange(double seconds, long bytes) {
        return new MetricsLine(step, skipped, loss, lr, derivative, estimate, floored, gradNorm, tokens, tokensPerS,
                elapsedS, valLoss, valPpl, seconds, bytes);
    }

    /** The loss, NaN when the line has none (a skipped step). */
    public double lossOrNaN() {
        return loss == null ? Double.NaN : loss;
    }

    /** The tokens so far, 0 when the line has none. */
    public long tokensOrZero() {
        return tokens == null ? 0 : tokens;
    }
}
