package io.galore4j.trainer;

import io.galore4j.galore.qzo.Qzo;
import io.galore4j.galore.qzo.QzoSettings;
import io.galore4j.galore.qzo.QzoWeights;
import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.config.ConfigValues;
import io.galore4j.trainer.config.RunConfig;
import io.galore4j.trainer.config.TrainSettings;
import io.galore4j.trainer.data.Dataset;
import io.galore4j.trainer.data.EvalWindows;
import io.galore4j.trainer.data.TrainingBatches;
import io.galore4j.trainer.io.SavedModel;
import io.galore4j.trainer.model.DenseWeights;
import io.galore4j.trainer.model.LlamaModel;
import io.galore4j.trainer.model.ModelConfig;
import io.galore4j.trainer.model.WeightSource;
import io.galore4j.trainer.run.BlasThreads;
import io.galore4j.trainer.run.FinetuneSummary;
import io.galore4j.trainer.run.MetricsLine;
import io.galore4j.trainer.run.ProcessMemory;
import io.galore4j.trainer.run.Progress;
import io.galore4j.trainer.run.RunDirectory;
import io.galore4j.trainer.run.StopSignal;
import java.io.IOException;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.DoubleSupplier;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A fine-tune without gradients, read top to bottom: settings, data, the model from its source,
 * an evaluation, the QZO loop (docs/design.md §3, {@link Qzo}), a final evaluation, the saved model and
 * the summary. A QZO run never ends worse than it started: it keeps a copy of the scales with the
 * lowest validation loss among its evaluations (the one before the first step included) and
 * writes the model from them, saying on its last line which step's scales those were. With
 * {@code train.steps = 0} it is the forward-only evaluation of the model the method starts from:
 * the quantized model for {@code qzo}, the source's fp32 weights for {@code adamw} (whose
 * training runs through {@link TrainJob}).
 *
 * <p>QZO reads {@code train.steps}, {@code batch_size}, {@code eval_every}, {@code eval_batches},
 * {@code log_every}, {@code seed}, {@code max_bad_steps} and {@code time_limit_s}, and the
 * {@code qzo.*} keys; its learning rate {@code qzo.lr} is constant.
 */
public final class FinetuneJob {

    private final ConfigTree tree;
    private final String method;
    private final ModelConfig model;
    private final TrainSettings train;
    private final QzoSettings qzo;
    private final Dataset data;
    private final EvalWindows evalWindows;

    private FinetuneJob(ConfigTree tree, String method, ModelConfig model, TrainSettings train, QzoSettings qzo,
            Dataset data, EvalWindows evalWindows) {
        this.tree = tree;
        this.method = method;
        this.model = model;
        this.train = train;
        this.qzo = qzo;
        this.data = data;
        this.evalWindows = evalWindows;
    }

    /**
     * Validates the settings and loads the data; {@code method} is qzo (training or evaluation) or
     * adamw (evaluation only: train.steps must be 0). IllegalArgumentException naming the key of
     * any bad value.
     */
    public static FinetuneJob resolve(ConfigTree tree, String method, PrintStream log) {
        ModelConfig model = RunConfig.modelConfig(tree);
        TrainSettings train = TrainSettings.from(tree, 0);
        if (!method.equals("qzo") && train.steps() > 0) {
            throw new IllegalArgumentException("--method " + method + " trains with gradients (TrainJob); "
                    + "this job only evaluates it (train.steps=0)");
        }
        QzoSettings qzo = method.equals("qzo") ? qzoSettings(tree.values()) : null;
        Dataset data = Dataset.load(tree.values(), "finetune", log);
        EvalWindows evalWindows = new EvalWindows(data.split(), train.evalBatches(), train.batchSize(), model.seqLen());
        return new FinetuneJob(tree, method, model, train, qzo, data, evalWindows);
    }

    /** The {@code qzo.*} settings ({@link RunConfig#qzo}). */
    static QzoSettings qzoSettings(ConfigValues v) {
        return RunConfig.qzo(v);
    }

    /**
     * Builds the model from {@code source}, one parameter at a time (a QZO model quantizes each
     * matrix as it arrives and releases the fp32 array). Nothing is written: a source that cannot
     * be read or quantized is refused before the run directory exists.
     */
    public Session start(ModelSource source) throws IOException {
        if (!source.model().equals(model)) {
            throw new IllegalArgumentException("the model of " + source.describe() + " differs from model.*");
        }
        return new Session(source);
    }

    /** A job whose model is built; {@link #run} evaluates and (for QZO) trains it. */
    public final class Session {
        private final long start = System.nanoTime();
        private final ModelSource source;
        private final QzoWeights quantized;
        private final DenseWeights dense;
        private final WeightSource weights;

        private Session(ModelSource source) throws IOException {
            this.source = source;
            if (qzo != null) {
                quantized = new QzoWeights(qzo.bits(), qzo.groupSize(), DataType.FLOAT);
                try {
                    source.forEachWeight((name, w) -> {
                        try {
                            quantized.add(name, w);
                        } finally {
                            w.close();
                        }
                    });
                } catch (RuntimeException | IOException e) {
                    quantized.close();
                    throw e;
                }
                dense = null;
                weights = quantized::weight;
            } else {
                Map<String, INDArray> all = new LinkedHashMap<>();
                source.forEachWeight(all::put);
                dense = new DenseWeights(all);
                quantized = null;
                weights = dense;
            }
        }

        /** Evaluates, trains for {@code train.steps} QZO steps, evaluates again, saves; returns the summary. */
        public FinetuneSummary run(RunDirectory dir, PrintStream out) throws IOException {
            try {
                return evaluateAndTrain(dir, out);
            } finally {
                close();
            }
        }

        private FinetuneSummary evaluateAndTrain(RunDirectory dir, PrintStream out) throws IOException {
            // optim.* does not apply here: the method alone says how the model was fine-tuned (or evaluated)
            dir.writeConfig(tree.withSection("optim", Map.of("method", method)).toYaml());
            BlasThreads.apply(train.blasThreads());
            LlamaModel net = new LlamaModel(model, weights);
            DoubleSupplier evaluation = () -> Evaluation.meanLoss(net, evalWindows);
            LoopClock clock = new LoopClock(0, 0);
            double valBefore = clock.evaluate(evaluation);
            out.printf("galore finetune: %s, %s, val_loss before %.4f%n", source.describe(), describeWeights(),
                    valBefore);
            LoopState s = new LoopState();
            s.valLoss = valBefore;
            Best best = train.steps() > 0 ? new Best(0, valBefore, quantized.copyScales()) : null;
            if (best != null) {
                best = train(dir, out, net, clock, evaluation, s, best);
                quantized.restoreScales(best.scales); // the model written is the best evaluated one
            }
            double trainSeconds = clock.trainSeconds();
            SavedModel.save(dir.path(), model, data.tokenizer().name(), weights);
            FinetuneSummary summary = summary((int) s.step, s.tokens, (System.nanoTime() - start) / 1e9, trainSeconds,
                    valBefore, s.valLoss, best, net);
            String kept = best == null ? ""
                    : best.step == 0
                    ? String.format(", model written from the starting scales (step 0, val_loss %.4f): no "
                            + "evaluation improved on them", best.valLoss)
                    : String.format(", model written from the scales of step %d (val_loss %.4f), the best "
                            + "evaluated", best.step, best.valLoss);
            dir.writeSummary(summary);
            out.printf("done: %d %s steps, val_loss %.4f → %.4f%s, %.1f s of training, peak RSS %.1f MiB%n", s.step,
                    method, valBefore, s.valLoss, kept, trainSeconds, summary.peakRssBytes() / 1048576.0);
            return summary;
        }

        /**
         * The QZO loop: a step on each batch, then the log and evaluation of {@link StepLog};
         * returns the best evaluated scales (starting with {@code best}).
         */
        private Best train(RunDirectory dir, PrintStream out, LlamaModel net, LoopClock clock,
                DoubleSupplier evaluation, LoopState s, Best best) throws IOException {
            Qzo zo = new Qzo(quantized, qzo, train.seed());
            TrainingBatches batches = new TrainingBatches(data.split(), train.batchSize(), model.seqLen(), train.seed());
            long tokensPerStep = (long) train.batchSize() * model.seqLen();
            try (Progress progress = Progress.of("finetune qzo", train.steps(), train.logEvery(), out);
                    StopSignal.Listener stop = StopSignal.listen()) {
                StepLog log = new StepLog(train, dir, progress, clock, evaluation, ReplicaSync.SINGLE, () -> false);
                for (int step = 0; step < train.steps(); step++) {
                    stopIfAsked(stop, dir, (int) s.step);
                    int[][] batch = batches.next();
                    Qzo.Step st = zo.step(() -> net.loss(batch), qzo.lr());
                    int done = step + 1;
                    s.step = done;
                    s.tokens += tokensPerStep;
                    if (st.skipped()) {
                        dir.logMetrics(MetricsLine.skipped(done, "non-finite loss", null));
                        if (++s.badSteps >= train.maxBadSteps()) {
                            throw new IllegalArgumentException(String.format("fine-tuning stopped at step %d: %d "
                                    + "steps in a row had a non-finite loss (train.max_bad_steps); lower qzo.eps "
                                    + "or qzo.lr", done, s.badSteps));
                        }
                        continue;
                    }
                    s.badSteps = 0;
                    StepLog.Logged logged = log.after(done, s.tokens, (tokensPerSecond, elapsed) -> MetricsLine.zerothOrder(
                            done, st.loss(), qzo.lr(), st.derivative(), st.estimate(), st.floored(), s.tokens,
                            tokensPerSecond, elapsed));
                    if (logged.valLoss().isPresent()) {
                        s.valLoss = logged.valLoss().getAsDouble();
                        if (s.valLoss < best.valLoss) {
                            best = new Best(done, s.valLoss, quantized.copyScales());
                        }
                    }
                    progress.update(done, st.loss(), qzo.lr(), logged.tokensPerSecond(), logged.end());
                    if (logged.end()) {
                        break;
                    }
                }
                stopIfAsked(stop, dir, (int) s.step);
            }
            return best;
        }

        /**
         * When a signal asked to stop: saves the model so far (QZO keeps no optimizer state to
         * checkpoint) and ends the run with {@link io.galore4j.trainer.run.RunStopped}.
         */
        private void stopIfAsked(StopSignal.Listener stop, RunDirectory dir, int done) throws IOException {
            if (stop.requested() == null) {
                return;
            }
            SavedModel.save(dir.path(), model, data.tokenizer().name(), weights);
            throw stop.stopped(String.format("stopped at step %d of %d (%s); the model so far is written to %s "
                    + "(a QZO fine-tune is not resumed: run it again for all %d steps)", done, train.steps(),
                    stop.requested().describe(), dir.path().resolve(SavedModel.WEIGHTS), train.steps()));
        }

        private String describeWeights() {
            return quantized != null
                    ? String.format("INT%d codes, %,d trainable scales (groups of %d)", qzo.bits(),
                            quantized.trainableCount(), qzo.groupSize())
                    : "fp32 weights";
        }

        private FinetuneSummary summary(int steps, long tokens, double wall, double trainSeconds, double valBefore,
                double valLoss, Best best, LlamaModel net) {
            long stored = quantized != null ? quantized.storedBytes() : 4L * model.parameterCount();
            long buffers = quantized != null ? quantized.bufferBytes() : 0;
            long workspace = net.workspaceMemory().total();
            long bestCopy = quantized != null && steps > 0 ? 4 * quantized.trainableCount() : 0; // fp32 scales
            FinetuneSummary.Memory memory = new FinetuneSummary.Memory(stored, buffers, bestCopy, workspace,
                    stored + buffers + bestCopy + workspace);
            double kept = best != null ? best.valLoss : valLoss;
            return new FinetuneSummary(method, source.describe(), quantized != null ? "int" + qzo.bits() : "fp32", steps,
                    tokens, wall, trainSeconds, steps == 0 ? 0.0 : tokens / trainSeconds, valBefore, kept, Math.exp(kept),
                    ProcessMemory.peakRssBytes(), model.parameterCount(),
                    quantized != null ? quantized.trainableCount() : 0L, memory, best != null ? valLoss : null,
                    best != null ? best.step : null);
        }

        private void close() {
            if (quantized != null) {
                quantized.close();
            } else {
                dense.asMap().values().forEach(INDArray::close);
            }
        }
    }

    /** The scales with the lowest validation loss so far, and the step after which they were evaluated. */
    private record Best(int step, double valLoss, float[][] scales) {}
}
