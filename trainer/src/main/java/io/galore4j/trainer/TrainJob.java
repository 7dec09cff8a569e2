package io.galore4j.trainer;

import io.galore4j.galore.LayerwiseOptimizer;
import io.galore4j.galore.MemoryAccount;
import io.galore4j.galore.OptimSettings;
import io.galore4j.projection.SubspaceStats;
import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.config.ConfigValues;
import io.galore4j.trainer.config.TrainSettings;
import io.galore4j.trainer.data.ByteTokenizer;
import io.galore4j.trainer.data.Corpus;
import io.galore4j.trainer.data.EvalWindows;
import io.galore4j.trainer.data.TokenSplit;
import io.galore4j.trainer.data.TrainingBatches;
import io.galore4j.trainer.data.Tokenizer;
import io.galore4j.trainer.io.SavedModel;
import io.galore4j.trainer.model.ActivationMemory;
import io.galore4j.trainer.model.DenseWeights;
import io.galore4j.trainer.model.GradientNorms;
import io.galore4j.trainer.model.LlamaModel;
import io.galore4j.trainer.model.ModelConfig;
import io.galore4j.trainer.run.Progress;
import io.galore4j.trainer.run.ProcessMemory;
import io.galore4j.trainer.run.RunDirectory;
import java.io.IOException;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One training run, read top to bottom: resolve the settings, load the data, build the model and
 * the optimizer, loop (forward, backward with layer-wise updates, log, evaluate), summarize.
 *
 * <p>Everything the user can get wrong is checked in {@link #resolve} before any file is written.
 *
 * <p><b>Clipping and accumulation with layer-wise updates.</b> Each parameter is updated the moment
 * its gradient is complete, before the global gradient norm of the step is known. The clip factor
 * of step t is therefore min(1, c / n_{t−1}), where n_{t−1} is the global gradient norm measured
 * during step t−1 (the first step is not clipped). With gradient accumulation the norm of the
 * summed gradient is never materialized (GaLore parameters accumulate in the projected space), so
 * n is the mean over micro-batches of each micro-batch's global gradient norm: by the triangle
 * inequality an upper bound of the accumulated gradient's norm, so the clipping is never weaker
 * than the rule it approximates. The update uses the mean of the micro-batch gradients.
 */
public final class TrainJob {

    private final ConfigTree tree;
    private final ModelConfig model;
    private final boolean checkpointActivations;
    private final TrainSettings train;
    private final OptimSettings optim;
    private final TokenSplit split;
    private final EvalWindows evalWindows;
    private MemoryEstimate memoryEstimate;

    private TrainJob(ConfigTree tree, ModelConfig model, boolean checkpointActivations,
            TrainSettings train, OptimSettings optim, TokenSplit split, EvalWindows evalWindows) {
        this.tree = tree;
        this.model = model;
        this.checkpointActivations = checkpointActivations;
        this.train = train;
        this.optim = optim;
        this.split = split;
        this.evalWindows = evalWindows;
    }

    /** Validates every setting and loads the corpus; throws IllegalArgumentException naming the problem. */
    public static TrainJob resolve(ConfigTree tree) throws IOException {
        return resolve(tree, null);
    }

    /** As {@link #resolve(ConfigTree)}, printing the corpus's size in bytes and tokens to {@code log} (if not null). */
    public static TrainJob resolve(ConfigTree tree, PrintStream log) throws IOException {
        ModelConfig model = modelConfig(tree);
        boolean checkpoint = tree.values().bool("model.checkpoint_activations");
        TrainSettings train = TrainSettings.from(tree);
        OptimSettings optim = OptimSettings.from(tree.section("optim"));
        ConfigValues v = tree.values();
        Tokenizer tokenizer = tokenizer(v);
        double valFraction = v.number("data.val_fraction", 0, 1);
        long start = System.nanoTime();
        byte[] text = Corpus.load(v.string("data.path", true));
        int[] tokens = tokenizer.encode(text);
        if (log != null) {
            log.printf("galore train: corpus of %,d bytes → %,d %s tokens (%.1f s)%n", text.length, tokens.length,
                    tokenizer.name(), (System.nanoTime() - start) / 1e9);
        }
        TokenSplit split = new TokenSplit(tokens, valFraction);
        EvalWindows evalWindows = new EvalWindows(split, train.evalBatches(), train.batchSize(), model.seqLen());
        // Fill in what the presets derived, so config.yaml is fully resolved.
        ConfigTree resolved = tree;
        for (Map.Entry<String, Object> e : modelKeys(model).entrySet()) {
            resolved = resolved.set(e.getKey() + "=" + e.getValue());
        }
        resolved = resolved.withSection("optim", optim.toMap());
        return new TrainJob(resolved, model, checkpoint, train, optim, split, evalWindows);
    }

    public String method() {
        return optim.method();
    }

    /** The memory this run needs by the estimator ({@link MemoryEstimate}), for its batch shape; computed once. */
    public MemoryEstimate memoryEstimate() throws IOException {
        if (memoryEstimate == null) {
            memoryEstimate = MemoryEstimate.of(tree, train.batchSize(), model.seqLen());
        }
        return memoryEstimate;
    }

    /** Runs the job, writing the run directory's files; returns the summary. */
    public Map<String, Object> run(RunDirectory dir, PrintStream out) throws IOException {
        dir.writeConfig(tree.toYaml());
        long start = System.nanoTime();

        // Model and optimizer: the optimizer owns the weights' storage (fp32 or INT8 codes).
        LayerwiseOptimizer opt = LayerwiseOptimizer.create(optim, train.seed());
        // one fp32 parameter at a time: an INT8 optimizer copies it and the array is released at
        // once, so initialization never holds the whole model in fp32
        DenseWeights.forEachInitial(model, DataType.FLOAT, train.seed(), (name, initial) -> {
            if (!opt.add(name, initial)) {
                initial.close();
            }
        });
        LlamaModel net = new LlamaModel(model, opt::weight);
        net.setCheckpointActivations(checkpointActivations);
        LrSchedule schedule = new LrSchedule(optim.lr(), train.warmup(), train.steps(), train.minLrRatio());
        TrainingBatches batches = new TrainingBatches(split, train.batchSize(), model.seqLen(), train.seed());
        long tokensPerStep = (long) train.batchSize() * train.gradAccum() * model.seqLen();

        double prevNorm = Double.NaN;
        double valLoss = Double.NaN;
        long tokens = 0;
        long loopStart = System.nanoTime();
        long evalNanos = 0; // excluded from tokens_per_s, which measures training throughput
        try (Progress progress = Progress.of("train " + optim.method(), train.steps(), out)) {
            for (int step = 0; step < train.steps(); step++) {
                double lr = schedule.at(step);
                double clip = train.gradClip() > 0 && prevNorm > train.gradClip()
                        ? train.gradClip() / prevNorm : 1.0;
                double gradScale = clip / train.gradAccum();
                double loss = 0;
                double normSum = 0;
                for (int micro = 0; micro < train.gradAccum(); micro++) {
                    boolean last = micro == train.gradAccum() - 1;
                    double[] sumSquares = {0};
                    loss += net.forwardBackward(batches.next(), (name, grad) -> {
                        sumSquares[0] += GradientNorms.sumOfSquares(grad);
                        if (last) {
                            opt.update(name, grad, lr, gradScale);
                        } else {
                            opt.accumulate(name, grad);
                        }
                    });
                    normSum += Math.sqrt(sumSquares[0]);
                }
                opt.endStep();
                loss /= train.gradAccum();
                prevNorm = normSum / train.gradAccum();
                tokens += tokensPerStep;
                for (SubspaceStats s : opt.drainRefreshEvents()) {
                    dir.logSubspace(s.toMap());
                }

                int done = step + 1;
                double elapsed = (System.nanoTime() - loopStart) / 1e9;
                double trainSeconds = elapsed - evalNanos / 1e9;
                boolean evalNow = done % train.evalEvery() == 0 || done == train.steps();
                if (done % train.logEvery() == 0 || evalNow || done == 1) {
                    Map<String, Object> line = new LinkedHashMap<>();
                    line.put("step", done);
                    line.put("loss", loss);
                    line.put("lr", lr);
                    line.put("grad_norm", prevNorm);
                    line.put("tokens", tokens);
                    line.put("tokens_per_s", tokens / trainSeconds);
                    line.put("elapsed_s", elapsed);
                    if (evalNow) {
                        long evalStart = System.nanoTime();
                        valLoss = evaluate(net);
                        evalNanos += System.nanoTime() - evalStart;
                        line.put("val_loss", valLoss);
                        line.put("val_ppl", Math.exp(valLoss));
                        progress.message(String.format("step %d: val_loss %.4f val_ppl %.3f", done, valLoss,
                                Math.exp(valLoss)));
                    }
                    dir.logMetrics(line);
                }
                progress.update(done, loss, lr, tokens / trainSeconds);
            }
        }
        double wall = (System.nanoTime() - start) / 1e9;
        double loopSeconds = (System.nanoTime() - loopStart - evalNanos) / 1e9;
        SavedModel.save(dir.path(), model, tokenizer(tree.values()).name(), opt::weight);
        Map<String, Object> summary = summary(opt, net.workspaceMemory(), tokens, wall, loopSeconds, valLoss,
                memoryEstimate());
        dir.writeSummary(summary);
        out.printf("done: %d steps, val_loss %.4f (ppl %.3f), %.0f tokens/s (%.2f GFLOP/s), %d SVDs, peak RSS %.1f MiB%n",
                train.steps(), valLoss, Math.exp(valLoss), summary.get("tokens_per_s"), summary.get("gflops_per_s"),
                opt.svdCount(), (long) summary.get("peak_rss_bytes") / 1048576.0);
        opt.close();
        return summary;
    }

    /** Mean validation cross-entropy (nats per token) over the fixed evaluation windows. */
    private double evaluate(LlamaModel net) {
        double sum = 0;
        for (int j = 0; j < evalWindows.batchCount(); j++) {
            sum += net.loss(evalWindows.batch(j));
        }
        return sum / evalWindows.batchCount();
    }

    private Map<String, Object> summary(LayerwiseOptimizer opt, ActivationMemory work, long tokens, double wall, double loopSeconds,
            double valLoss, MemoryEstimate estimate) {
        MemoryAccount mem = opt.memory();
        Map<String, Object> memory = new LinkedHashMap<>();
        long weights = mem.total(MemoryAccount.Component.WEIGHT) + mem.total(MemoryAccount.Component.WEIGHT_SCALES)
                + mem.weightPoolBytes();
        long optimizer = mem.total(MemoryAccount.Component.M) + mem.total(MemoryAccount.Component.M_SCALES)
                + mem.total(MemoryAccount.Component.V) + mem.total(MemoryAccount.Component.V_SCALES);
        long projection = mem.total(MemoryAccount.Component.BASIS) + mem.total(MemoryAccount.Component.BASIS_WORKING)
                + mem.total(MemoryAccount.Component.PROJECTED);
        long gradients = work.gradientBytes() + mem.total(MemoryAccount.Component.ACCUMULATION);
        long activations = work.activationBytes();
        memory.put("weights", weights);
        memory.put("optimizer", optimizer);
        memory.put("projection", projection);
        memory.put("gradients", gradients);
        memory.put("activations", activations);
        memory.put("total", weights + optimizer + projection + gradients + activations);

        Map<String, Object> s = new LinkedHashMap<>();
        s.put("method", optim.method());
        s.put("steps", train.steps());
        s.put("tokens", tokens);
        s.put("wall_s", wall);
        s.put("tokens_per_s", tokens / loopSeconds);
        s.put("flops_per_token", model.flopsPerToken());
        s.put("gflops_per_s", model.flopsPerToken() * tokens / loopSeconds / 1e9);
        s.put("val_loss", valLoss);
        s.put("val_ppl", Math.exp(valLoss));
        s.put("svd_count", opt.svdCount());
        s.put("peak_rss_bytes", ProcessMemory.peakRssBytes());
        s.put("memory_estimate", estimate.toMap());
        s.put("params", model.parameterCount());
        s.put("memory", memory);
        return s;
    }

    /** The validated {@code data.tokenizer}. */
    static Tokenizer tokenizer(ConfigValues v) {
        return Tokenizer.named(v.string("data.tokenizer", false));
    }

    /**
     * model.* keys: the preset, then any field set explicitly. An unset model.vocab is the
     * preset's for the byte tokenizer and the tokenizer's own size for a BPE one; a vocabulary
     * smaller than the tokenizer's is refused.
     */
    static ModelConfig modelConfig(ConfigTree tree) {
        ConfigValues v = tree.values();
        ModelConfig p = ModelConfig.preset(v.string("model.preset", false));
        Tokenizer tokenizer = tokenizer(v);
        int max = Integer.MAX_VALUE;
        int vocab;
        if (v.isSet("model.vocab")) {
            vocab = v.integer("model.vocab", 1, max);
            if (vocab < tokenizer.vocabSize()) {
                throw new IllegalArgumentException("model.vocab must be ≥ " + tokenizer.vocabSize() + " for the "
                        + tokenizer.name() + " tokenizer (got " + vocab + ")");
            }
        } else {
            vocab = tokenizer instanceof ByteTokenizer ? p.vocab() : tokenizer.vocabSize();
        }
        return new ModelConfig(
                v.isSet("model.hidden") ? v.integer("model.hidden", 1, max) : p.hidden(),
                v.isSet("model.layers") ? v.integer("model.layers", 1, max) : p.layers(),
                v.isSet("model.heads") ? v.integer("model.heads", 1, max) : p.heads(),
                v.isSet("model.intermediate") ? v.integer("model.intermediate", 1, max) : p.intermediate(),
                vocab,
                v.isSet("model.seq_len") ? v.integer("model.seq_len", 1, max) : p.seqLen(),
                v.positive("model.rope_theta", 1, Double.MAX_VALUE),
                v.positive("model.norm_eps", 0, 1));
    }

    private static Map<String, Object> modelKeys(ModelConfig m) {
        Map<String, Object> k = new LinkedHashMap<>();
        k.put("model.hidden", m.hidden());
        k.put("model.layers", m.layers());
        k.put("model.heads", m.heads());
        k.put("model.intermediate", m.intermediate());
        k.put("model.vocab", m.vocab());
        k.put("model.seq_len", m.seqLen());
        return k;
    }
}
