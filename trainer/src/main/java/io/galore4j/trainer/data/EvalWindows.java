package io.galore4j.trainer.data;

/**
 * The fixed evaluation set: K = eval_batches × batch_size windows of seq_len + 1 tokens in the
 * validation part of V tokens, window i starting at ⌊i · (V − seq_len − 1) / K⌋, i = 0…K−1:
 * evenly spread, identical in every run and every evaluation.
 */
public final class EvalWindows {

    private final TokenSplit split;
    private final int evalBatches;
    private final int batchSize;
    private final int seqLen;

    public EvalWindows(TokenSplit split, int evalBatches, int batchSize, int seqLen) {
        if (evalBatches <= 0) {
            throw new IllegalArgumentException("train.eval_batches must be > 0, got " + evalBatches);
        }
        TrainingBatches.checkWindows(batchSize, seqLen, split.valSize(), "data.val_fraction: the validation part");
        this.split = split;
        this.evalBatches = evalBatches;
        this.batchSize = batchSize;
        this.seqLen = seqLen;
    }

    /** K, the number of windows. */
    public int windowCount() {
        return evalBatches * batchSize;
    }

    public int batchCount() {
        return evalBatches;
    }

    /** Start of window i within the validation part: ⌊i · (V − seq_len − 1) / K⌋. */
    public int offset(int i) {
        if (i < 0 || i >= windowCount()) {
            throw new IllegalArgumentException("window index " + i + " outside [0, " + windowCount() + ")");
        }
        long span = split.valSize() - seqLen - 1L;
        return (int) (i * span / windowCount());
    }

    /** Batch j: windows j·batch_size … (j+1)·batch_size − 1. */
    public int[][] batch(int j) {
        return batch(j, 0, 1);
    }

    /**
     * Replica {@code rank}'s share of batch j when {@code replicas} replicas split each batch
     * (a data-parallel run's windows are eval_batches × batch_size × workers, docs/design.md §3.9):
     * its batch_size / replicas consecutive windows.
     */
    public int[][] batch(int j, int rank, int replicas) {
        if (j < 0 || j >= evalBatches) {
            throw new IllegalArgumentException("eval batch " + j + " outside [0, " + evalBatches + ")");
        }
        if (replicas < 1 || rank < 0 || rank >= replicas || batchSize % replicas != 0) {
            throw new IllegalArgumentException("replica " + rank + " of " + replicas + " cannot take a share of "
                    + batchSize + " windows");
        }
        int share = batchSize / replicas;
        int[][] batch = new int[share][seqLen + 1];
        for (int r = 0; r < share; r++) {
            split.valWindow(offset(j * batchSize + rank * share + r), batch[r]);
        }
        return batch;
    }
}
