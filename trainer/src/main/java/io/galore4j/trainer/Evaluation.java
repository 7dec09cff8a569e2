package io.galore4j.trainer;

import io.galore4j.trainer.data.EvalWindows;
import io.galore4j.trainer.model.LlamaModel;

/** The validation loss every run reports: training and fine-tuning evaluate the same way. */
final class Evaluation {

    private Evaluation() {
    }

    /** Mean validation cross-entropy (nats per token) of {@code net} over the fixed evaluation windows. */
    static double meanLoss(LlamaModel net, EvalWindows windows) {
        double sum = 0;
        for (int j = 0; j < windows.batchCount(); j++) {
            sum += net.loss(windows.batch(j));
        }
        return sum / windows.batchCount();
    }
}
