package io.galore4j.trainer;

import io.galore4j.galore.LayerwiseOptimizer;
import io.galore4j.galore.Replicas;
import io.galore4j.galore.OptimSettings;
import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.config.ConfigValues;
import io.galore4j.trainer.config.RunConfig;
import io.galore4j.trainer.config.TrainSettings;
import io.galore4j.trainer.data.CorpusFingerprint;
import io.galore4j.trainer.data.Dataset;
import io.galore4j.trainer.data.EvalWindows;
import io.galore4j.trainer.data.TokenSplit;
import io.galore4j.trainer.data.TrainingBatches;
import io.galore4j.trainer.model.Compute;
import io.galore4j.trainer.model.DenseWeights;
import io.galore4j.trainer.model.LlamaModel;
import io.galore4j.trainer.model.LlamaParameters;
import io.galore4j.trainer.model.ModelConfig;
import io.galore4j.trainer.model.WeightSource;
import io.galore4j.trainer.run.BlasThreads;
import io.galore4j.trainer.run.InitProgress;
import io.galore4j.trainer.run.Checkpoints;
import io.galore4j.trainer.run.RunDirectory;
import io.galore4j.trainer.run.Summary;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One training run: resolve the settings, load the data, build the model and the optimizer
 * ({@link Session}), then the loop of {@link TrainLoop} (forward, backward with layer-wise updates,
 * log, evaluate, checkpoint) and the summary.
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
    private final CorpusFingerprint corpus;
    private final EvalWindows evalWindows;
    private final PrintStream log;
    private MemoryEstimate memoryEstimate;
    private Compute compute;

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
        RunConfig c = RunConfig.resolve(tree);
        Dataset text = data.apply(tree.values());
        // a data-parallel run evaluates what one process with its global batch would (docs/design.md §3.9)
        EvalWindows evalWindows = new EvalWindows(text.split(), c.train().evalBatches(),
                c.train().batchSize() * c.train().parallel().workers(), c.model().seqLen());
        return new TrainJob(c.tree(), c.model(), c.checkpointActivations(), c.train(), c.optim(), text, evalWindows, log);
    }

    /** The model this job trains. */
    public ModelConfig model() {
        return model;
    }

    /** The BLAS thread count this run uses ({@code train.blas_threads} resolved on this machine). */
    public int blasThreads() {
        return BlasThreads.resolve(train.blasThreads());
    }

    /** The arithmetic of the weight products ({@code train.compute} resolved on this machine). */
    public Compute compute() {
        if (compute == null) {
            compute = Compute.resolve(train.compute());
        }
        return compute;
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
    public Summary run(RunDirectory dir, PrintStream out) throws IOException {
        return start(null).run(dir, out);
    }

    /**
     * Builds the model and the optimizer, from the initialization or (when {@code resume} is not
     * null) from a checkpoint of this run, checked with {@link #checkCompatible} first. Nothing
     * is written: a checkpoint that does not fit is refused here, before the run directory is
     * touched.
     */
    public Session start(Checkpoints.Loaded resume) {
        return start(resume, Replicas.SINGLE);
    }

    /**
     * As {@link #start(Checkpoints.Loaded)} for replica {@code replicas.rank()} of a data-parallel
     * run (docs/design.md §3.9): the optimizer exchanges its gradients with the other replicas and
     * the batches are this replica's shard.
     */
    public Session start(Checkpoints.Loaded resume, Replicas replicas) {
        try {
            return new Session(resume, null, replicas);
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
        return new Session(null, source, Replicas.SINGLE);
    }

    /** A job whose model and optimizer are built; {@link #run} trains it ({@link TrainLoop}). */
    public final class Session {
        final long created = System.nanoTime();
        final LayerwiseOptimizer opt;
        final TrainingBatches batches;
        final LoopState state = new LoopState();
        final Checkpoints.Loaded resume;
        final ModelSource source;
        final ReplicaSync sync;

        private Session(Checkpoints.Loaded resume, ModelSource source, Replicas replicas) throws IOException {
            this.resume = resume;
            this.source = source;
            this.sync = replicas.size() == 1 ? ReplicaSync.SINGLE : new ReplicaSync(replicas);
            BlasThreads.apply(train.blasThreads());
            this.opt = replicas.size() == 1 ? LayerwiseOptimizer.create(optim, train.seed())
                    : LayerwiseOptimizer.create(optim, train.seed(), replicas);
            this.batches = new TrainingBatches(split, train.batchSize(), model.seqLen(), train.seed(), replicas.rank(),
                    replicas.size());
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
                state.restore(resume, opt, batches);
            }
        }

        /**
         * Trains to {@code train.steps}, writing the run directory's files ({@link TrainLoop#run});
         * returns the summary.
         */
        public Summary run(RunDirectory dir, PrintStream out) throws IOException {
            return new TrainLoop(TrainJob.this, this, dir, dir.path(), out).run();
        }

        /**
         * A data-parallel replica's loop (docs/design.md §3.9): rank 0 writes into {@code dir}; the
         * others pass null and name {@code runPath} only in their messages.
         */
        public Summary runReplica(RunDirectory dir, Path runPath, PrintStream out) throws IOException {
            return new TrainLoop(TrainJob.this, this, dir, runPath, out).run();
        }

        /** {@code galore bench}: {@link StepBench#run} on this session's optimizer and batches. */
        public List<StepTiming> bench(int warmup, int steps, java.util.function.IntConsumer beforeStep) {
            return new StepBench(TrainJob.this, opt, batches).run(warmup, steps, beforeStep);
        }
    }

    /** The model with this job's activation checkpointing, reading its weights from {@code weights}. */
    LlamaModel network(WeightSource weights) {
        LlamaModel net = new LlamaModel(model, weights, compute());
        net.setCheckpointActivations(checkpointActivations);
        return net;
    }

    /** The learning-rate schedule of {@code optim.lr} and {@code train.*}. */
    LrSchedule schedule() {
        return new LrSchedule(optim.lr(), train.warmup(), train.steps(), train.minLrRatio());
    }

    /** The resolved settings (config.yaml). */
    ConfigTree tree() {
        return tree;
    }

    TrainSettings train() {
        return train;
    }

    CorpusFingerprint corpus() {
        return corpus;
    }

    EvalWindows evalWindows() {
        return evalWindows;
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

    /**
     * Refuses a checkpoint written under other settings or past train.steps
     * ({@link RunConfig#checkCompatible}), or on another corpus ({@link CorpusCheck}).
     */
    public void checkCompatible(Checkpoints.Loaded c) {
        RunConfig.checkCompatible(tree, c, train.steps());
        CorpusCheck.check(c, corpus, tree, System.err);
    }
}
