package io.galore4j.trainer;

import io.galore4j.galore.qzo.Qzo;
import io.galore4j.galore.qzo.QzoSettings;
import io.galore4j.galore.qzo.QzoWeights;
import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.config.ConfigValues;
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
import io.galore4j.trainer.run.ProcessMemory;
import io.galore4j.trainer.run.Progress;
import io.galore4j.trainer.run.RunDirectory;
import io.galore4j.trainer.run.StopSignal;
import java.io.IOException;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;
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
        ModelConfig model = TrainJob.modelConfig(tree);
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

    /** The {@code qzo.*} keys, each checked with its name in the message (ε, C, η and the floor > 0). */
    static QzoSettings qzoSettings(ConfigValues v) {
        double max = Double.MAX_VALUE;
        return new QzoSettings(v.positive("qzo.eps", 0, max), v.positive("qzo.clip", 0, max),
                v.positive("qzo.lr", 0, max), v.positive("qzo.min_scale", 0, max),
                v.integer("qzo.bits", 4, 8), v.integer("qzo.group_size", 1, Integer.MAX_VALUE));
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
        public Map<String, Object> run(RunDirectory dir, PrintStream out) throws IOException {
            try {
                return evaluateAndTrain(dir, out);
            } finally {
                close();
            }
        }

        private Map<String, Object> evaluateAndTrain(RunDirectory dir, PrintStream out) throws IOException {
            // optim.* does not apply here: the method alone says how the model was fine-tuned (or evaluated)
            dir.writeConfig(tree.withSection("optim", Map.of("method", method)).toYaml());
            BlasThreads.apply(train.blasThreads());
            LlamaModel net = new LlamaModel(model, weights);
            long loopStart = System.nanoTime();
            double valBefore = evaluate(net);
            double evalSeconds = (System.nanoTime() - loopStart) / 1e9;
            out.printf("galore finetune: %s, %s, val_loss before %.4f%n", source.describe(), describeWeights(),
                    valBefore);
            double valLoss = valBefore;
            int done = 0;
            long tokens = 0;
            Best best = null;
            if (train.steps() > 0) {
                best = new Best(0, valBefore, quantized.copyScales());
                Qzo zo = new Qzo(quantized, qzo, train.seed());
                TrainingBatches batches = new TrainingBatches(data.split(), train.batchSize(), model.seqLen(),
                        train.seed());
                long tokensPerStep = (long) train.batchSize() * model.seqLen();
                int badSteps = 0;
                try (Progress progress = Progress.of("finetune qzo", train.steps(), out);
                        StopSignal.Listener stop = StopSignal.listen()) {
                    while (done < train.steps()) {
                        stopIfAsked(stop, dir, done);
                        int[][] batch = batches.next();
                        Qzo.Step st = zo.step(() -> net.loss(batch), qzo.lr());
                        done++;
                        tokens += tokensPerStep;
                        double elapsed = (System.nanoTime() - loopStart) / 1e9;
                        double trainSeconds = elapsed - evalSeconds;
                        Map<String, Object> line = new LinkedHashMap<>();
                        line.put("step", done);
                        if (st.skipped()) {
                            badSteps++;
                            line.put("skipped", "non-finite loss");
                            dir.logMetrics(line);
                            if (badSteps >= train.maxBadSteps()) {
                                throw new IllegalArgumentException(String.format("fine-tuning stopped at step %d: %d "
                                        + "steps in a row had a non-finite loss (train.max_bad_steps); lower qzo.eps "
                                        + "or qzo.lr", done, badSteps));
                            }
                            continue;
                        }
                        badSteps = 0;
                        boolean end = done == train.steps()
                                || train.timeLimit() > 0 && trainSeconds >= train.timeLimit();
                        boolean evalNow = done % train.evalEvery() == 0 || end;
                        if (done % train.logEvery() == 0 || evalNow || done == 1) {
                            line.put("loss", st.loss());
                            line.put("lr", qzo.lr());
                            line.put("derivative", st.derivative());
                            line.put("estimate", st.estimate());
                            line.put("floored", st.floored());
                            line.put("tokens", tokens);
                            line.put("tokens_per_s", tokens / trainSeconds);
                            line.put("elapsed_s", elapsed);
                            if (evalNow) {
                                long evalStart = System.nanoTime();
                                valLoss = evaluate(net);
                                evalSeconds += (System.nanoTime() - evalStart) / 1e9;
                                line.put("val_loss", valLoss);
                                line.put("val_ppl", Math.exp(valLoss));
                                if (valLoss < best.valLoss) {
                                    best = new Best(done, valLoss, quantized.copyScales());
                                }
                                progress.message(String.format("step %d: val_loss %.4f val_ppl %.3f", done, valLoss,
                                        Math.exp(valLoss)));
                            }
                            dir.logMetrics(line);
                        }
                        progress.update(done, st.loss(), qzo.lr(), tokens / trainSeconds);
                        if (end) {
                            break;
                        }
                    }
                    stopIfAsked(stop, dir, done);
                }
            }
            double trainSeconds = (System.nanoTime() - loopStart) / 1e9 - evalSeconds;
            if (best != null) {
                quantized.restoreScales(best.scales); // the model written is the best evaluated one
            }
            SavedModel.save(dir.path(), model, data.tokenizer().name(), weights);
            Map<String, Object> summary = summary(done, tokens, (System.nanoTime() - start) / 1e9, trainSeconds,
                    valBefore, valLoss, net);
            String kept = "";
            if (best != null) {
                summary.put("val_loss", best.valLoss);
                summary.put("val_ppl", Math.exp(best.valLoss));
                summary.put("val_loss_last", valLoss);
                summary.put("kept_step", best.step);
                kept = best.step == 0
                        ? String.format(", model written from the starting scales (step 0, val_loss %.4f): no "
                                + "evaluation improved on them", best.valLoss)
                        : String.format(", model written from the scales of step %d (val_loss %.4f), the best "
                                + "evaluated", best.step, best.valLoss);
            }
            dir.writeSummary(summary);
            out.printf("done: %d %s steps, val_loss %.4f → %.4f%s, %.1f s of training, peak RSS %.1f MiB%n", done,
                    method, valBefore, valLoss, kept, trainSeconds,
                    (long) summary.get("peak_rss_bytes") / 1048576.0);
            return summary;
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

        private Map<String, Object> summary(int steps, long tokens, double wall, double trainSeconds, double valBefore,
                double valLoss, LlamaModel net) {
            long stored = quantized != null ? quantized.storedBytes() : 4L * model.parameterCount();
            long buffers = quantized != null ? quantized.bufferBytes() : 0;
            long workspace = net.workspaceMemory().total();
            long bestCopy = quantized != null && steps > 0 ? 4 * quantized.trainableCount() : 0; // fp32 scales
            Map<String, Object> memory = new LinkedHashMap<>();
            memory.put("weights", stored);
            memory.put("decode_buffers", buffers);
            memory.put("best_scales", bestCopy);
            memory.put("activations", workspace);
            memory.put("total", stored + buffers + bestCopy + workspace);
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("method", method);
            s.put("source", source.describe());
            s.put("weights", quantized != null ? "int" + qzo.bits() : "fp32");
            s.put("steps", steps);
            s.put("tokens", tokens);
            s.put("wall_s", wall);
            s.put("train_s", trainSeconds);
            s.put("tokens_per_s", steps == 0 ? 0.0 : tokens / trainSeconds);
            s.put("val_loss_before", valBefore);
            s.put("val_loss", valLoss);
            s.put("val_ppl", Math.exp(valLoss));
            s.put("peak_rss_bytes", ProcessMemory.peakRssBytes());
            s.put("params", model.parameterCount());
            s.put("trainable", quantized != null ? quantized.trainableCount() : 0L);
            s.put("memory", memory);
            return s;
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

    /** Mean validation cross-entropy (nats per token) over the fixed evaluation windows. */
    private double evaluate(LlamaModel net) {
        double sum = 0;
        for (int j = 0; j < evalWindows.batchCount(); j++) {
            sum += net.loss(evalWindows.batch(j));
        }
        return sum / evalWindows.batchCount();
    }
}
