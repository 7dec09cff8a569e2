package io.galore4j.trainer.data;

/**
 * Training batches: {@code batchSize} windows of seq_len + 1 tokens starting at offsets drawn
 * uniformly from [0, trainSize − seq_len − 1] by a seeded SplitMix64 generator (Steele, Lea &amp;
 * Flood 2014) whose whole state is one long, so a checkpoint can save it ({@link #state}) and a
 * resumed run draws exactly the batches it would have drawn ({@link #restore}).
 *
 * <p>Data parallelism shards by the global sample index (docs/design.md §3.9): replica k of N
 * draws the offsets of all batchSize × N windows of a global micro-batch and keeps windows
 * k·batchSize to (k+1)·batchSize − 1, so the N replicas together see exactly the batch one
 * process with batch size batchSize × N would see, and the state (the generator, the global
 * micro-batches drawn) is the same on every replica and for every N: a run can resume with
 * another N.
 */
public final class TrainingBatches {

    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private final TokenSplit split;
    private final int batchSize;
    private final int seqLen;
    private final int offsets;
    private final int rank;
    private final int replicas;
    private long rngState;
    private long batchesDrawn;

    public TrainingBatches(TokenSplit split, int batchSize, int seqLen, long seed) {
        this(split, batchSize, seqLen, seed, 0, 1);
    }

    /** Replica {@code rank}'s shard of the batches of {@code replicas} replicas (see the class comment). */
    public TrainingBatches(TokenSplit split, int batchSize, int seqLen, long seed, int rank, int replicas) {
        checkWindows(batchSize, seqLen, split.trainSize(), "data: the training part");
        if (replicas < 1 || rank < 0 || rank >= replicas) {
            throw new IllegalArgumentException("replica " + rank + " out of range for " + replicas + " replicas");
        }
        this.split = split;
        this.batchSize = batchSize;
        this.seqLen = seqLen;
        this.offsets = split.trainSize() - seqLen;
        this.rank = rank;
        this.replicas = replicas;
        this.rngState = seed;
    }

    /**
     * Throws IllegalArgumentException naming the setting unless batches of {@code batchSize}
     * windows of {@code seqLen} + 1 tokens can be cut from {@code part}'s {@code tokens}.
     */
    static void checkWindows(int batchSize, int seqLen, long tokens, String part) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("train.batch_size must be > 0, got " + batchSize);
        }
        if (seqLen <= 0) {
            throw new IllegalArgumentException("model.seq_len must be > 0, got " + seqLen);
        }
        if (tokens < seqLen + 1) {
            throw new IllegalArgumentException(part + " has " + tokens + " tokens, fewer than seq_len + 1 = "
                    + (seqLen + 1));
        }
    }

    /** The next batch: {@code batchSize} rows of seq_len + 1 tokens (this replica's shard of the global micro-batch). */
    public int[][] next() {
        int[][] batch = new int[batchSize][seqLen + 1];
        int first = rank * batchSize;
        for (int i = 0; i < batchSize * replicas; i++) {
            int offset = nextOffset();
            if (i >= first && i < first + batchSize) {
                split.trainWindow(offset, batch[i - first]);
            }
        }
        batchesDrawn++;
        return batch;
    }

    /** Offset of the next window, uniform over the valid offsets (rejection sampling: no modulo bias). */
    int nextOffset() {
        long bound = offsets;
        long limit = Long.MAX_VALUE - (Long.MAX_VALUE % bound);
        long r;
        do {
            r = nextLong() >>> 1;
        } while (r >= limit);
        return (int) (r % bound);
    }

    private long nextLong() {
        long z = (rngState += GOLDEN_GAMMA);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** How many batches {@link #next} has returned since construction or the restored state. */
    public long batchesDrawn() {
        return batchesDrawn;
    }

    /** The sampler's state: {generator state, batches drawn}. */
    public long[] state() {
        return new long[] {rngState, batchesDrawn};
    }

    /** Restores a state from {@link #state}; later batches equal those drawn after it was saved. */
    public void restore(long[] state) {
        if (state == null || state.length != 2 || state[1] < 0) {
            throw new IllegalArgumentException("sampler state must be {generator state, batches drawn >= 0}, got "
                    + java.util.Arrays.toString(state));
        }
        rngState = state[0];
        batchesDrawn = state[1];
    }
}
