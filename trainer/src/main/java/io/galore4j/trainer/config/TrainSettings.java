package io.galore4j.trainer.config;

/**
 * The {@code train.*} settings. Built from a {@link ConfigTree}, which checks each value's range
 * and names the key of any bad one.
 *
 * @param steps optimizer steps
 * @param batchSize token windows per micro-batch
 * @param gradAccum micro-batches per optimizer step
 * @param warmup steps of linear warmup to the peak learning rate
 * @param minLrRatio the cosine decay ends at this fraction of the peak
 * @param gradClip global gradient-norm bound; 0 disables clipping
 * @param evalEvery steps between evaluations (the last step is always evaluated)
 * @param evalBatches validation batches per evaluation
 * @param logEvery steps between metric lines
 * @param seed seed of every random generator of the run
 * @param ckptEvery steps between checkpoints (0: only at the end)
 * @param keepCkpts checkpoints kept (the newest)
 * @param maxBadSteps consecutive steps with a non-finite loss or gradient after which the run stops
 * @param timeLimit seconds of training (evaluations excluded) after which the run ends with the
 *                  step under way, as if it were the last; 0: no limit
 * @param blasThreads BLAS threads (0: the library's default)
 * @param compute     the weight products' arithmetic: auto, fp32 or bf16 (io.galore4j.trainer.model.Compute)
 * @param parallel the data-parallel settings
 */
public record TrainSettings(
        int steps,
        int batchSize,
        int gradAccum,
        int warmup,
        double minLrRatio,
        double gradClip,
        int evalEvery,
        int evalBatches,
        int logEvery,
        long seed,
        int ckptEvery,
        int keepCkpts,
        int maxBadSteps,
        double timeLimit,
        int blasThreads,
        String compute,
        Parallel parallel) {

    /** The values of {@code train.compute}. */
    public static final java.util.List<String> COMPUTE = java.util.List.of("auto", "fp32", "bf16");

    /**
     * The data-parallel settings (docs/design.md §3.9).
     *
     * @param workers          data-parallel workers; 1: one process
     * @param master           Spark master URL, or null: worker processes on this machine
     * @param maxRestarts      restarts from the last checkpoint after a worker failed
     * @param checkEvery       steps between comparisons of the replicas' checksums
     * @param exchangeTimeoutS seconds a worker waits at one exchange before the step fails
     */
    public record Parallel(int workers, String master, int maxRestarts, int checkEvery, int exchangeTimeoutS) {
        public static Parallel from(ConfigValues v) {
            return new Parallel(v.integer("train.workers", 1, 1024), v.string("train.master", true),
                    v.integer("train.max_restarts", 0, 1000), v.integer("train.check_every", 1, Integer.MAX_VALUE),
                    v.integer("train.exchange_timeout_s", 1, 86400));
        }
    }

    public static TrainSettings from(ConfigTree tree) {
        return from(tree, 1);
    }

    /** As {@link #from(ConfigTree)} with {@code train.steps} ≥ {@code minSteps} (0 for an evaluation-only fine-tune). */
    public static TrainSettings from(ConfigTree tree, int minSteps) {
        ConfigValues v = tree.values();
        int steps = v.integer("train.steps", minSteps, Integer.MAX_VALUE);
        return new TrainSettings(
                steps,
                v.integer("train.batch_size", 1, 1 << 20),
                v.integer("train.grad_accum", 1, 1 << 16),
                v.integer("train.warmup", 0, Integer.MAX_VALUE),
                v.number("train.min_lr_ratio", 0, 1),
                v.number("train.grad_clip", 0, Double.MAX_VALUE),
                v.integer("train.eval_every", 1, Integer.MAX_VALUE),
                v.integer("train.eval_batches", 1, 1 << 20),
                v.integer("train.log_every", 1, Integer.MAX_VALUE),
                v.integer("train.seed", Integer.MIN_VALUE, Integer.MAX_VALUE),
                v.integer("train.ckpt_every", 0, Integer.MAX_VALUE),
                v.integer("train.keep_ckpts", 1, 1000),
                v.integer("train.max_bad_steps", 1, Integer.MAX_VALUE),
                v.number("train.time_limit_s", 0, Double.MAX_VALUE),
                v.integer("train.blas_threads", 0, 1024),
                compute(v),
                Parallel.from(v));
    }

    private static String compute(ConfigValues v) {
        String c = v.string("train.compute", false);
        if (!COMPUTE.contains(c)) {
            throw new IllegalArgumentException("train.compute must be auto, fp32 or bf16, got '" + c + "'");
        }
        return c;
    }
}
