package io.galore4j.trainer;

import io.galore4j.galore.LayerwiseOptimizer;
import io.galore4j.galore.OptimSettings;
import io.galore4j.projection.SubspaceStats;
import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.config.ConfigValues;
import io.galore4j.trainer.config.TrainSettings;
import io.galore4j.trainer.data.ByteTokenizer;
import io.galore4j.trainer.data.CorpusFingerprint;
import io.galore4j.trainer.data.Dataset;
import io.galore4j.trainer.data.EvalWindows;
import io.galore4j.trainer.data.TokenSplit;
import io.galore4j.trainer.data.TrainingBatches;
import io.galore4j.trainer.data.Tokenizer;
import io.galore4j.trainer.io.SavedModel;
import io.galore4j.trainer.model.ActivationMemory;
import io.galore4j.trainer.model.DenseWeights;
import io.galore4j.trainer.model.GradientNorms;
import io.galore4j.trainer.model.LlamaModel;
import io.galore4j.trainer.model.LlamaParameters;
import io.galore4j.trainer.model.ModelConfig;
import io.galore4j.trainer.run.BlasThreads;
import io.galore4j.trainer.run.InitProgress;
import io.galore4j.trainer.run.Progress;
import io.galore4j.trainer.run.ProcessMemory;
import io.galore4j.trainer.run.Checkpoints;
import io.galore4j.trainer.run.RunDirectory;
import io.galore4j.trainer.run.RunStopped;
import io.galore4j.trainer.run.StopSignal;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

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

    /** CPU clocks for {@code galore bench}: the main thread's and the whole process's. */
    private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();
    private static final com.sun.management.OperatingSystemMXBean PROCESS =
            (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();

    private final ConfigTree tree;
    private final ModelConfig model;
    private final boolean checkpointActivations;
    private final TrainSettings train;
    private final OptimSettings optim;
    private final TokenSplit split;
    private final CorpusFingerprint corpus;
    private final EvalWindows evalWindows;
    private final PrintStream log;
    private MemoryEstimate memoryEstimate;

    private TrainJob(ConfigTree tree, ModelConfig model, boolean checkpointActivations,
            TrainSettings train, OptimSettings optim, Dataset data, EvalWindows evalWindows, PrintStream log) {
        this.tree = tree;
        this.model = model;
        this.checkpointActivations = checkpointActivations;
        this.train = train;
        this.optim = optim;
        this.split = data.split();
        this.corpus = data.corpus();
        this.evalWindows = evalWindows;
        this.log = log;
    }

    /** Validates every setting and loads the corpus; throws IllegalArgumentException naming the problem. */
    public static TrainJob resolve(ConfigTree tree) throws IOException {
        return resolve(tree, null);
    }

    /**
     * As {@link #resolve(ConfigTree)}, printing to {@code log} (if not null) the corpus's size in bytes
     * and tokens and, for a model of at least {@link InitProgress#LARGE} parameters, the progress of
     * its initialization.
     */
    public static TrainJob resolve(ConfigTree tree, PrintStream log) throws IOException {
        return resolve(tree, log, v -> Dataset.load(v, "train", log));
    }

    /**
     * As {@link #resolve(ConfigTree, PrintStream)} with the text from {@code data} (handed the
     * settings; a sweep checking many combinations reads each corpus once). Every parameter's
     * optimizer settings are resolved for its shape (a rank above min(m, n) is refused here),
     * without allocating any parameter.
     */
    public static TrainJob resolve(ConfigTree tree, PrintStream log, java.util.function.Function<ConfigValues, Dataset> data)
            throws IOException {
        ModelConfig model = modelConfig(tree);
        boolean checkpoint = tree.values().bool("model.checkpoint_activations");
        TrainSettings train = TrainSettings.from(tree);
        OptimSettings optim = OptimSettings.from(tree.section("optim"));
        for (Map.Entry<String, long[]> p : LlamaParameters.shapes(model).entrySet()) {
            optim.resolve(p.getKey(), p.getValue()); // every parameter's settings, checked without allocating it
        }
        Dataset text = data.apply(tree.values());
        EvalWindows evalWindows = new EvalWindows(text.split(), train.evalBatches(), train.batchSize(), model.seqLen());
        // Fill in what the presets derived, so config.yaml is fully resolved.
        ConfigTree resolved = tree;
        for (Map.Entry<String, Object> e : modelKeys(model).entrySet()) {
            resolved = resolved.set(e.getKey() + "=" + e.getValue());
        }
        resolved = resolved.withSection("optim", optim.toMap());
        return new TrainJob(resolved, model, checkpoint, train, optim, text, evalWindows, log);
    }

    /** The model this job trains. */
    public ModelConfig model() {
        return model;
    }

    /** The BLAS thread count this run uses ({@code train.blas_threads} resolved on this machine). */
    public int blasThreads() {
        return BlasThreads.resolve(train.blasThreads());
    }

    /** The tokens of one micro-batch: batch_size × seq_len (a {@link Session#bench} step). */
    public long tokensPerBatch() {
        return (long) train.batchSize() * model.seqLen();
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

    /** Runs the job from the start, writing the run directory's files; returns the summary. */
    public Map<String, Object> run(RunDirectory dir, PrintStream out) throws IOException {
        return start(null).run(dir, out);
    }

    /**
     * Builds the model and the optimizer, from the initialization or (when {@code resume} is not
     * null) from a checkpoint of this run, checked with {@link #checkCompatible} first. Nothing
     * is written: a checkpoint that does not fit is refused here, before the run directory is
     * touched.
     */
    public Session start(Checkpoints.Loaded resume) {
        try {
            return new Session(resume, null);
        } catch (IOException e) { // only reading a ModelSource throws it
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * Builds the optimizer from the weights of {@code source} (fine-tuning): each parameter is
     * read, handed to the optimizer and released unless the optimizer keeps it, one at a time.
     * The run evaluates once before its first step and reports that as {@code val_loss_before}.
     */
    public Session startFrom(ModelSource source) throws IOException {
        if (!source.model().equals(model)) {
            throw new IllegalArgumentException("the model of " + source.describe() + " differs from model.*");
        }
        return new Session(null, source);
    }

    /** A job whose model and optimizer are built; {@link #run} trains it. */
    public final class Session {
        private final long start = System.nanoTime();
        private final LayerwiseOptimizer opt;
        private final TrainingBatches batches;
        private final LoopState s = new LoopState();
        private final Checkpoints.Loaded resume;
        private final ModelSource source;

        private Session(Checkpoints.Loaded resume, ModelSource source) throws IOException {
            this.resume = resume;
            this.source = source;
            BlasThreads.apply(train.blasThreads());
            this.opt = LayerwiseOptimizer.create(optim, train.seed());
            this.batches = new TrainingBatches(split, train.batchSize(), model.seqLen(), train.seed());
            try {
                build();
            } catch (RuntimeException | IOException e) {
                opt.close();
                throw e;
            }
        }

        private void build() throws IOException {
            // The optimizer owns the weights' storage (fp32 or INT8 codes).
            if (source != null) {
                source.forEachWeight((name, w) -> {
                    if (!opt.add(name, w)) {
                        w.close();
                    }
                });
            } else if (resume == null) {
                // one fp32 parameter at a time: an INT8 optimizer copies it and the array is released at
                // once, so initialization never holds the whole model in fp32
                InitProgress progress = InitProgress.of(model.parameterCount(), log);
                DenseWeights.forEachInitial(model, DataType.FLOAT, train.seed(), (name, initial) -> {
                    long n = initial.length();
                    if (!opt.add(name, initial)) {
                        initial.close();
                    }
                    progress.add(n);
                });
            } else {
                addZeros(opt, model); // the checkpoint overwrites every value: no initialization to draw
            }
            if (resume != null) {
                s.restore(resume, opt, batches);
            }
        }

        /**
         * Trains to {@code train.steps}, writing the run directory's files, checkpoints every
         * {@code train.ckpt_every} steps and at the end; returns the summary. SIGINT or SIGTERM
         * ({@link StopSignal}) stops it after the step under way with a checkpoint of that step
         * ({@link RunStopped}).
         */
        public Map<String, Object> run(RunDirectory dir, PrintStream out) throws IOException {
            dir.writeConfig(tree.toYaml());
            if (resume != null) {
                out.printf("galore train: resumed from %s at step %d%n", resume.dir(), s.step);
            }
            LlamaModel net = new LlamaModel(model, opt::weight);
            net.setCheckpointActivations(checkpointActivations);
            LrSchedule schedule = new LrSchedule(optim.lr(), train.warmup(), train.steps(), train.minLrRatio());
            Checkpoints checkpoints = new Checkpoints(dir.path());
            long tokensPerStep = (long) train.batchSize() * train.gradAccum() * model.seqLen();
            double elapsedAtStart = s.elapsedBefore;
            long loopStart = System.nanoTime() - (long) (s.elapsedBefore * 1e9);
            double valBefore = Double.NaN;
            if (source != null) { // a fine-tune: the starting point's validation loss, counted as evaluation time
                valBefore = evaluate(net);
                s.evalSeconds += (System.nanoTime() - loopStart) / 1e9;
                out.printf("galore finetune: %s, val_loss before %.4f%n", source.describe(), valBefore);
            }
            long checkpointed = resume != null ? resume.step() : -1;
            try (Progress progress = Progress.of("train " + optim.method(), (int) s.step, train.steps(), out);
                    StopSignal.Listener stop = StopSignal.listen()) {
                for (int step = (int) s.step; step < train.steps(); step++) {
                    if (stop.requested() != null) {
                        throw stopped(stop, dir, checkpoints, checkpointed == s.step, loopStart);
                    }
                    double lr = schedule.at(step);
                    double clip = train.gradClip() > 0 && s.prevNorm > train.gradClip()
                            ? train.gradClip() / s.prevNorm : 1.0;
                    double gradScale = clip / train.gradAccum();
                    double loss = 0;
                    double normSum = 0;
                    boolean[] bad = {false};
                    for (int micro = 0; micro < train.gradAccum() && !bad[0]; micro++) {
                        boolean last = micro == train.gradAccum() - 1;
                        double[] sumSquares = {0};
                        loss += net.forwardBackward(batches.next(), l -> Double.isFinite(l) || !(bad[0] = true),
                                (name, grad) -> {
                                    if (bad[0]) {
                                        return;
                                    }
                                    double ss = GradientNorms.sumOfSquares(grad);
                                    if (!Double.isFinite(ss)) {
                                        bad[0] = true; // the rest of this step's updates are skipped
                                        return;
                                    }
                                    sumSquares[0] += ss;
                                    if (last) {
                                        opt.update(name, grad, lr, gradScale);
                                    } else {
                                        opt.accumulate(name, grad);
                                    }
                                });
                        normSum += Math.sqrt(sumSquares[0]);
                    }
                    int done = step + 1;
                    s.step = done;
                    if (bad[0]) {
                        opt.abandonStep();
                        s.badSteps++;
                        logRefreshes(dir, opt);
                        Map<String, Object> line = new LinkedHashMap<>();
                        line.put("step", done);
                        line.put("skipped", "non-finite loss or gradient");
                        line.put("loss", Double.isFinite(loss) ? loss : null);
                        dir.logMetrics(line);
                        progress.message(String.format("step %d: non-finite loss or gradient, step skipped (%d in a row)",
                                done, s.badSteps));
                        if (s.badSteps >= train.maxBadSteps()) {
                            opt.close();
                            List<Long> kept = checkpoints.steps();
                            throw new IllegalArgumentException(String.format(
                                    "training stopped at step %d: %d steps in a row had a non-finite loss or gradient "
                                            + "(train.max_bad_steps); %s; lower optim.lr, raise train.warmup or set "
                                            + "train.grad_clip, and start again", done, s.badSteps,
                                    kept.isEmpty() ? "no checkpoint was written"
                                            : "the last good checkpoint is " + checkpoints.root().resolve(
                                                    Checkpoints.name(kept.get(kept.size() - 1)))));
                        }
                        continue;
                    }
                    s.badSteps = 0;
                    opt.endStep();
                    loss /= train.gradAccum();
                    s.prevNorm = normSum / train.gradAccum();
                    s.tokens += tokensPerStep;
                    logRefreshes(dir, opt);

                    double elapsed = (System.nanoTime() - loopStart) / 1e9;
                    double trainSeconds = elapsed - s.evalSeconds;
                    boolean end = done == train.steps() || train.timeLimit() > 0 && trainSeconds >= train.timeLimit();
                    boolean evalNow = done % train.evalEvery() == 0 || end;
                    if (done % train.logEvery() == 0 || evalNow || done == 1) {
                        Map<String, Object> line = new LinkedHashMap<>();
                        line.put("step", done);
                        line.put("loss", loss);
                        line.put("lr", lr);
                        line.put("grad_norm", s.prevNorm);
                        line.put("tokens", s.tokens);
                        line.put("tokens_per_s", s.tokens / trainSeconds);
                        line.put("elapsed_s", elapsed);
                        if (evalNow) {
                            long evalStart = System.nanoTime();
                            s.valLoss = evaluate(net);
                            s.evalSeconds += (System.nanoTime() - evalStart) / 1e9;
                            line.put("val_loss", s.valLoss);
                            line.put("val_ppl", Math.exp(s.valLoss));
                            progress.message(String.format("step %d: val_loss %.4f val_ppl %.3f", done, s.valLoss,
                                    Math.exp(s.valLoss)));
                        }
                        dir.logMetrics(line);
                    }
                    if (end || train.ckptEvery() > 0 && done % train.ckptEvery() == 0) {
                        progress.message("step " + done + ": checkpoint " + checkpoint(checkpoints, loopStart));
                        checkpointed = done;
                    }
                    progress.update(done, loss, lr, s.tokens / trainSeconds);
                    if (end) {
                        if (done < train.steps()) {
                            progress.message(String.format("step %d: train.time_limit_s=%s reached", done,
                                    train.timeLimit()));
                        }
                        break;
                    }
                }
                if (stop.requested() != null) {
                    throw stopped(stop, dir, checkpoints, checkpointed == s.step, loopStart);
                }
            }
            // a resumed run counts the loop time of its earlier processes too, as tokens does
            double wall = (System.nanoTime() - start) / 1e9 + elapsedAtStart;
            double loopSeconds = (System.nanoTime() - loopStart) / 1e9 - s.evalSeconds;
            SavedModel.save(dir.path(), model, tokenizer(tree.values()).name(), opt::weight);
            Map<String, Object> summary = summary(opt, net.workspaceMemory(), s.tokens, wall, loopSeconds, s.valLoss,
                    memoryEstimate());
            summary.put("steps", s.step); // fewer than train.steps when train.time_limit_s ended the run
            if (resume != null) {
                summary.put("resumed_from_step", resume.step());
            }
            if (source != null) {
                summary.put("val_loss_before", valBefore);
                summary.put("source", source.describe());
            }
            dir.writeSummary(summary);
            // a fine-tune keeps no copy of its starting weights: the last line says when it ended worse
            String start = source == null ? ""
                    : String.format(s.valLoss <= valBefore ? "; val_loss before %.4f"
                            : "; worse than val_loss before %.4f (the model written is the last step's)", valBefore);
            out.printf("done: %d steps, val_loss %.4f (ppl %.3f), %.0f tokens/s (%.2f GFLOP/s), %d SVDs, peak RSS %.1f MiB%s%n",
                    s.step, s.valLoss, Math.exp(s.valLoss), summary.get("tokens_per_s"), summary.get("gflops_per_s"),
                    opt.svdCount(), (long) summary.get("peak_rss_bytes") / 1048576.0, start);
            opt.close();
            return summary;
        }

        /** Writes the checkpoint of the step just done; returns its directory. */
        private Path checkpoint(Checkpoints checkpoints, long loopStart) throws IOException {
            s.elapsedBefore = (System.nanoTime() - loopStart) / 1e9;
            return checkpoints.write(s.step, s.toMap(tree, batches, corpus), opt::saveState, train.keepCkpts());
        }

        /**
         * A signal asked the run to stop after step {@code s.step}: its checkpoint (written now
         * unless {@code written}) and the exception that ends the run.
         */
        private RunStopped stopped(StopSignal.Listener stop, RunDirectory dir, Checkpoints checkpoints, boolean written,
                long loopStart) throws IOException {
            Path ckpt = written ? checkpoints.root().resolve(Checkpoints.name(s.step)) : checkpoint(checkpoints, loopStart);
            opt.close();
            return stop.stopped(String.format("stopped at step %d (%s); checkpoint written to %s; resume with: "
                    + "galore train --resume %s", s.step, stop.requested().describe(), ckpt, dir.path()));
        }

        /**
         * {@code galore bench}: {@code warmup} untimed steps, then {@code steps} timed ones on the
         * training batches, each preceded by a timed forward-only pass over the same batch. Writes
         * no file and closes the optimizer at the end. The updates are the run's (learning-rate
         * schedule from step 0), without clipping. {@code beforeStep} gets each step's 0-based index
         * (warm-up steps included) before its forward-only pass: a hook to change a setting (such
         * as the BLAS thread count) from step to step.
         */
        public List<StepTiming> bench(int warmup, int steps, java.util.function.IntConsumer beforeStep) {
            if (warmup < 0 || steps < 1) {
                throw new IllegalArgumentException("bench needs warmup >= 0 and steps >= 1, got " + warmup + ", " + steps);
            }
            long[] fetch = {0};
            LlamaModel net = new LlamaModel(model, name -> {
                long t = System.nanoTime();
                INDArray w = opt.weight(name);
                fetch[0] += System.nanoTime() - t;
                return w;
            });
            net.setCheckpointActivations(checkpointActivations);
            LrSchedule schedule = new LrSchedule(optim.lr(), train.warmup(), train.steps(), train.minLrRatio());
            List<StepTiming> timings = new java.util.ArrayList<>();
            try {
                for (int step = 0; step < warmup + steps; step++) {
                    int[][] batch = batches.next();
                    double lr = schedule.at(step);
                    beforeStep.accept(step);
                    long f0 = System.nanoTime();
                    net.loss(batch);
                    long forward = System.nanoTime() - f0;
                    fetch[0] = 0;
                    long[] update = {0};
                    long mainCpu0 = THREADS.getCurrentThreadCpuTime();
                    long cpu0 = PROCESS.getProcessCpuTime();
                    long s0 = System.nanoTime();
                    double loss = net.forwardBackward(batch, (name, grad) -> {
                        long u0 = System.nanoTime();
                        opt.update(name, grad, lr, 1.0);
                        update[0] += System.nanoTime() - u0;
                    });
                    long e0 = System.nanoTime();
                    opt.endStep();
                    long end = System.nanoTime();
                    long cpu = PROCESS.getProcessCpuTime() - cpu0;
                    long mainCpu = THREADS.getCurrentThreadCpuTime() - mainCpu0;
                    update[0] += end - e0;
                    double refreshMs = 0;
                    int refreshes = 0;
                    for (SubspaceStats e : opt.drainRefreshEvents()) {
                        refreshMs += e.basisMillis();
                        refreshes++;
                    }
                    if (step >= warmup) {
                        timings.add(new StepTiming(step + 1, (end - s0) / 1e9, forward / 1e9, update[0] / 1e9,
                                refreshMs / 1e3, fetch[0] / 1e9, loss, refreshes, cpu / 1e9, mainCpu / 1e9));
                    }
                }
            } finally {
                opt.close();
            }
            return timings;
        }
    }

    /** Adds every parameter of {@code model} to {@code opt} as zeros, for a checkpoint to overwrite. */
    static void addZeros(LayerwiseOptimizer opt, ModelConfig model) {
        for (Map.Entry<String, long[]> e : LlamaParameters.shapes(model).entrySet()) {
            INDArray zeros = Nd4j.zeros(DataType.FLOAT, e.getValue());
            if (!opt.add(e.getKey(), zeros)) {
                zeros.close();
            }
        }
    }

    private static void logRefreshes(RunDirectory dir, LayerwiseOptimizer opt) throws IOException {
        for (SubspaceStats e : opt.drainRefreshEvents()) {
            dir.logSubspace(e.toMap());
        }
    }

    /** The trainer's own state between steps: what a checkpoint saves besides the optimizer's. */
    private static final class LoopState {
        long step;
        long tokens;
        double prevNorm = Double.NaN;
        double valLoss = Double.NaN;
        double elapsedBefore;
        double evalSeconds;
        int badSteps;

        /** The trainer.json body besides the optimizer's part. */
        Map<String, Object> toMap(ConfigTree tree, TrainingBatches batches, CorpusFingerprint corpus) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("tokens", tokens);
            m.put("prev_norm", finiteOrNull(prevNorm));
            m.put("val_loss", finiteOrNull(valLoss));
            long[] sampler = batches.state();
            m.put("sampler", List.of(sampler[0], sampler[1]));
            m.put("elapsed_s", elapsedBefore);
            m.put("eval_s", evalSeconds);
            m.put("config", fingerprint(tree));
            m.put(CorpusCheck.KEY, corpus.toMap());
            return m;
        }

        void restore(Checkpoints.Loaded c, LayerwiseOptimizer opt, TrainingBatches batches) {
            Map<String, Object> t = c.trainer();
            Path file = c.dir().resolve(Checkpoints.TRAINER);
            try {
                step = c.step();
                tokens = number(t, "tokens").longValue();
                prevNorm = t.get("prev_norm") == null ? Double.NaN : number(t, "prev_norm").doubleValue();
                valLoss = t.get("val_loss") == null ? Double.NaN : number(t, "val_loss").doubleValue();
                elapsedBefore = number(t, "elapsed_s").doubleValue();
                evalSeconds = number(t, "eval_s").doubleValue();
                if (!(t.get("sampler") instanceof List<?> sm) || sm.size() != 2
                        || !(sm.get(0) instanceof Number a) || !(sm.get(1) instanceof Number b)) {
                    throw new IllegalArgumentException("sampler must be two integers");
                }
                batches.restore(new long[] {a.longValue(), b.longValue()});
                c.restore(opt);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("checkpoint " + file + " does not fit this run: " + e.getMessage(), e);
            }
        }

        private static Number number(Map<String, Object> t, String key) {
            if (t.get(key) instanceof Number n) {
                return n;
            }
            throw new IllegalArgumentException(key + " must be a number, got " + t.get(key));
        }

        private static Double finiteOrNull(double v) {
            return Double.isFinite(v) ? v : null;
        }
    }

    /**
     * The settings a checkpoint must agree with to be resumed: every key except those that only
     * say how long to run and how often to log, evaluate and save ({@link #RESUMABLE_KEYS}).
     */
    static Map<String, Object> fingerprint(ConfigTree tree) {
        Map<String, Object> flat = new java.util.TreeMap<>();
        for (String section : List.of("model", "data", "train", "optim")) {
            flatten(section, tree.section(section), flat);
        }
        for (String k : RESUMABLE_KEYS) {
            flat.remove(k);
        }
        return flat;
    }

    /** Keys a resumed run may change. */
    static final List<String> RESUMABLE_KEYS = List.of("train.steps", "train.eval_every", "train.log_every",
            "train.ckpt_every", "train.keep_ckpts", "train.max_bad_steps", "train.eval_batches", "train.time_limit_s",
            "train.blas_threads");

    @SuppressWarnings("unchecked")
    private static void flatten(String prefix, Map<String, Object> map, Map<String, Object> out) {
        for (Map.Entry<String, Object> e : map.entrySet()) {
            String key = prefix + "." + e.getKey();
            if (e.getValue() instanceof Map<?, ?> m) {
                flatten(key, (Map<String, Object>) m, out);
            } else {
                out.put(key, e.getValue() == null ? null : String.valueOf(e.getValue()));
            }
        }
    }

    /**
     * Refuses a checkpoint written under other settings, naming the first keys that differ
     * (IllegalArgumentException naming the checkpoint's file), or on another corpus
     * ({@link CorpusCheck}). A key the checkpoint does not list matches when it has its default
     * value: it was added to the defaults later, and its default keeps the older behaviour.
     */
    public void checkCompatible(Checkpoints.Loaded c) {
        if (!(c.trainer().get("config") instanceof Map<?, ?> saved)) {
            throw new IllegalArgumentException(c.dir().resolve(Checkpoints.TRAINER) + " holds no config");
        }
        Map<String, Object> now = fingerprint(tree);
        java.util.TreeSet<String> keys = new java.util.TreeSet<>(now.keySet());
        for (Object k : saved.keySet()) {
            keys.add(String.valueOf(k));
        }
        List<String> differ = new java.util.ArrayList<>();
        keys.remove("optim.method");
        List<String> order = new java.util.ArrayList<>(List.of("optim.method")); // the likeliest cause first
        order.addAll(keys);
        Map<String, Object> defaults = fingerprint(ConfigTree.defaults());
        for (String k : order) {
            if (!saved.containsKey(k) && defaults.containsKey(k) && java.util.Objects.equals(now.get(k), defaults.get(k))) {
                continue; // a key added to the defaults after the checkpoint was written, at its default
            }
            if (!java.util.Objects.equals(now.get(k), saved.get(k))) {
                differ.add(k + " (checkpoint " + saved.get(k) + ", now " + now.get(k) + ")");
            }
        }
        if (!differ.isEmpty()) {
            throw new IllegalArgumentException("checkpoint " + c.dir().resolve(Checkpoints.TRAINER)
                    + " was written with other settings: " + String.join(", ", differ.subList(0, Math.min(3, differ.size())))
                    + (differ.size() > 3 ? " and " + (differ.size() - 3) + " more" : "")
                    + "; only " + String.join(", ", RESUMABLE_KEYS) + " may change on --resume");
        }
        if (c.step() > train.steps()) {
            throw new IllegalArgumentException("checkpoint " + c.dir() + " is at step " + c.step()
                    + ", past train.steps=" + train.steps());
        }
        CorpusCheck.check(c, corpus, tree, System.err);
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
            double valLoss, MemoryEstimate estimate) throws IOException {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("method", optim.method());
        s.put("steps", train.steps());
        s.put("tokens", tokens);
        s.put("wall_s", wall);
        s.put("blas", BlasThreads.library());
        s.put("blas_threads", BlasThreads.current());
        s.put("tokens_per_s", tokens / loopSeconds);
        s.put("flops_per_token", model.flopsPerToken());
        s.put("gflops_per_s", model.flopsPerToken() * tokens / loopSeconds / 1e9);
        s.put("val_loss", valLoss);
        s.put("val_ppl", Math.exp(valLoss));
        s.put("svd_count", opt.svdCount());
        s.put("peak_rss_bytes", ProcessMemory.peakRssBytes());
        s.put("memory_estimate", estimate.toMap());
        s.put("params", model.parameterCount());
        s.put(CorpusCheck.KEY, corpus.toMap());
        s.put("memory", MemoryEstimate.of(tree, train.batchSize(), model.seqLen(), opt.memory(), work).toMap());
        s.put("weight_formats", WeightFormats.of(opt.effectiveSettings(), LlamaParameters.shapes(model)));
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
