package io.galore4j.trainer;

import io.galore4j.trainer.config.TrainSettings;
import io.galore4j.trainer.run.MetricsLine;
import io.galore4j.trainer.run.Progress;
import io.galore4j.trainer.run.RunDirectory;
import java.io.IOException;
import java.util.OptionalDouble;
import java.util.function.DoubleSupplier;

/**
 * What a training loop does after each step that updated the model: decide whether the run ends
 * ({@code train.steps}, or {@code train.time_limit_s} of training), write a metrics line every
 * {@code train.log_every} steps, at the first and on evaluation steps, and evaluate every
 * {@code train.eval_every} steps and at the end.
 */
final class StepLog {

    /** Makes a step's metrics line from the training throughput and the time so far. */
    interface LineMaker {
        MetricsLine line(double tokensPerSecond, double elapsedSeconds);
    }

    /**
     * After a step.
     *
     * @param end             the run ends with this step
     * @param valLoss         the validation loss, when the step evaluated
     * @param tokensPerSecond the training throughput so far
     */
    record Logged(boolean end, OptionalDouble valLoss, double tokensPerSecond) {}

    private final TrainSettings train;
    private final RunDirectory dir;
    private final Progress progress;
    private final LoopClock clock;
    private final DoubleSupplier evaluation;
    private final ReplicaSync sync;
    private final java.util.function.BooleanSupplier stop;

    /**
     * {@code dir} is null on a data-parallel replica that writes nothing; {@code stop} says whether
     * a signal asked this process to stop (replicas agree on it with the time limit, {@link ReplicaSync#anyStop}).
     */
    StepLog(TrainSettings train, RunDirectory dir, Progress progress, LoopClock clock, DoubleSupplier evaluation,
            ReplicaSync sync, java.util.function.BooleanSupplier stop) {
        this.train = train;
        this.dir = dir;
        this.progress = progress;
        this.clock = clock;
        this.evaluation = evaluation;
        this.sync = sync;
        this.stop = stop;
    }

    /** Logs (and evaluates) after step {@code done}, {@code tokens} trained on so far. */
    Logged after(int done, long tokens, LineMaker maker) throws IOException {
        double elapsed = clock.elapsed();
        double trainSeconds = elapsed - clock.evalSeconds();
        double tokensPerSecond = tokens / trainSeconds;
        boolean timeUp = train.timeLimit() > 0 && trainSeconds >= train.timeLimit();
        if (sync.distributed()) {
            timeUp = sync.anyStop(timeUp, stop.getAsBoolean());
        }
        boolean end = done == train.steps() || timeUp;
        boolean evalNow = done % train.evalEvery() == 0 || end;
        OptionalDouble valLoss = OptionalDouble.empty();
        if (done % train.logEvery() == 0 || evalNow || done == 1) {
            MetricsLine line = maker.line(tokensPerSecond, elapsed);
            if (evalNow) {
                double v = clock.evaluate(evaluation);
                valLoss = OptionalDouble.of(v);
                line = line.withEvaluation(v);
                progress.message(String.format("step %d: val_loss %.4f val_ppl %.3f", done, v, Math.exp(v)));
            }
            if (dir != null) {
                dir.logMetrics(line);
            }
        }
        return new Logged(end, valLoss, tokensPerSecond);
    }
}
