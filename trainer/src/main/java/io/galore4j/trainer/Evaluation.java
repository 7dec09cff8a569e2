package io.galore4j.trainer;

import io.galore4j.trainer.data.EvalWindows;
import io.galore4j.trainer.model.LlamaModel;

/** The validation loss every run reports: training and fine-tuning evaluate the same way. */
final class Evaluation {

    private Evaluation() {
    }

    /** Mean validation cross-entropy (nats per token) of {@code net} over the fixed evaluation windows. */
    static double meanLoss(LlamaModel net, EvalWindows windows) {
        return meanLoss(net, windows, ReplicaSync.SINGLE);
    }

    /**
     * As {@link #meanLoss(LlamaModel, EvalWindows)} for a data-parallel replica: each of the N
     * replicas evaluates its share of every batch (the windows of a batch are batch_size × N) and
     * the replicas add their sums (docs/design.md §3.9); one process evaluates the whole of each.
     */
    static double meanLoss(LlamaModel net, EvalWindows windows, ReplicaSync sync) {
        double sum = 0;
        for (int j = 0; j < windows.batchCount(); j++) {
            sum += net.loss(windows.batch(j, sync.rank(), sync.size()));
        }
        return sync.sum(sum) / (windows.batchCount() * (double) sync.size());
    }
}
