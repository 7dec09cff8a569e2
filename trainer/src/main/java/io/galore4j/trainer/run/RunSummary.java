package io.galore4j.trainer.run;

/** The contents of a run's {@code summary.json}: a training run's or a gradient-free fine-tune's. */
public sealed interface RunSummary permits Summary, FinetuneSummary {
}
