package io.galore4j.trainer;

import io.galore4j.galore.ExchangeCounts;
import io.galore4j.galore.LayerwiseOptimizer;
import io.galore4j.trainer.config.RunConfig;
import io.galore4j.trainer.config.TrainSettings;
import io.galore4j.trainer.data.TrainingBatches;
import io.galore4j.trainer.io.SavedModel;
import io.galore4j.trainer.model.ActivationMemory;
import io.galore4j.trainer.model.LlamaModel;
import io.galore4j.trainer.model.LlamaParameters;
import io.galore4j.trainer.model.ModelConfig;
import io.galore4j.trainer.run.BlasThreads;
import io.galore4j.trainer.run.Checkpoints;
import io.galore4j.trainer.run.MetricsLine;
import io.galore4j.trainer.run.ProcessMemory;
import io.galore4j.trainer.run.Progress;
import io.galore4j.trainer.run.RunDirectory;
import io.galore4j.trainer.run.RunStopped;
import io.galore4j.trainer.run.StopSignal;
import io.galore4j.trainer.run.Summary;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.function.DoubleSupplier;

/**
 * The training loop of a {@link TrainJob.Session}, read top to bottom in {@link #run}: each step
 * draws its batches, runs forward and backward with layer-wise updates ({@link LayerwiseStep}),
 * keeps the step's books (clip factor, accumulation, skipped non-finite steps), logs, evaluates
 * and checkpoints. The clipping rule with layer-wise updates is the one {@link TrainJob} describes.
 */
final class TrainLoop {

    private final TrainJob job;
    private final TrainJob.Session session;
    private final TrainSettings train;
    private final ModelConfig model;
    private final LayerwiseOptimizer opt;
    private final TrainingBatches batches;
    private final LoopState s;
    private final RunDirectory dir;
    private final PrintStream out;
    private final Checkpoints checkpoints;
    private final ReplicaSync sync;
    private final ExchangeReport exchange;
    private LoopClock clock;

    TrainLoop(TrainJob job, TrainJob.Session session, RunDirectory dir, Path runPath, PrintStream out) {
        this.job = job;
        this.session = session;
        this.train = job.train();
        this.model = job.model();
        this.opt = session.opt;
        this.batches = session.batches;
        this.s = session.state;
        this.dir = dir;
        this.out = out;
        this.sync = session.sync;
        this.exchange = sync.distributed() ? new ExchangeReport(ExchangeBytes.of(job.tree()), session.state.step) : null;
        this.checkpoints = new Checkpoints(runPath); // only rank 0 writes (docs/design.md §3.9)
    }

    /**
     * Trains to {@code train.steps}, writing the run directory's files, checkpoints every
     * {@code train.ckpt_every} steps and at the end; returns the summary. SIGINT or SIGTERM
     * ({@link StopSignal}) stops it after the step under way with a checkpoint of that step
     * ({@link RunStopped}).
     */
    Summary run() throws IOException {
        if (sync.writes()) {
            dir.writeConfig(job.tree().toYaml());
        }
        if (session.resume != null) {
            out.printf("galore train: resumed from %s at step %d%n", session.resume.dir(), s.step);
        }
        LlamaModel net = job.network(opt::weight);
        LrSchedule schedule = job.schedule();
        LayerwiseStep stepper = new LayerwiseStep(net, opt, sync);
        DoubleSupplier evaluation = () -> Evaluation.meanLoss(net, job.evalWindows(), sync);
        long tokensPerStep = (long) train.batchSize() * train.gradAccum() * model.seqLen() * sync.size();
        clock = new LoopClock(s.elapsedBefore, s.evalSecondsBefore);
        double valBefore = session.source == null ? Double.NaN : startingPoint(evaluation);
        long checkpointed = session.resume != null ? session.resume.step() : -1;
        try (Progress progress = Progress.of("train " + job.method(), (int) s.step, train.steps(), train.logEvery(), out);
                StopSignal.Listener stop = StopSignal.listen()) {
            StepLog log = new StepLog(train, dir, progress, clock, evaluation, sync,
                    () -> stop.requested() != null);
            for (int step = (int) s.step; step < train.steps(); step++) {
                if (stopRequested(stop)) {
                    throw stopped(stop, checkpointed == s.step);
                }
                // the batches, forward and backward, each gradient handed to the optimizer when complete
                double lr = schedule.at(step);
                LayerwiseStep.Outcome o = stepper.run(batches::next, train.gradAccum(), lr,
                        clipFactor() / train.gradAccum());
                int done = step + 1;
                s.step = done;
                logSubspace();
                // the step's books: a non-finite step is skipped; else its mean loss and gradient norm
                if (o.nonFinite()) {
                    skip(done, o.lossSum(), progress);
                    continue;
                }
                s.badSteps = 0;
                double loss = o.lossSum() / train.gradAccum();
                s.prevNorm = o.normSum() / train.gradAccum();
                s.tokens += tokensPerStep;
                // log and evaluate
                StepLog.Logged logged = log.after(done, s.tokens, (tokensPerSecond, elapsed) -> exchanged(
                        MetricsLine.trained(done, loss, lr, s.prevNorm, s.tokens, tokensPerSecond, elapsed)));
                logged.valLoss().ifPresent(v -> s.valLoss = v);
                if (sync.distributed() && done % train.parallel().checkEvery() == 0) {
                    compareReplicas(done);
                }
                // checkpoint
                if (logged.end() || train.ckptEvery() > 0 && done % train.ckptEvery() == 0) {
                    progress.message("step " + done + ": checkpoint " + checkpoint());
                    checkpointed = done;
                }
                progress.update(done, loss, lr, logged.tokensPerSecond(), logged.end());
                if (logged.end()) {
                    if (done < train.steps()) {
                        progress.message(String.format("step %d: train.time_limit_s=%s reached", done,
                                train.timeLimit()));
                    }
                    break;
                }
            }
            if (stopRequested(stop)) {
                throw stopped(stop, checkpointed == s.step);
            }
        }
        return finish(net, valBefore);
    }

    /** A data-parallel run's metrics line carries the exchange so far. */
    private MetricsLine exchanged(MetricsLine line) {
        if (!sync.distributed()) {
            return line;
        }
        ExchangeCounts c = opt.exchangeCounts();
        return line.withExchange(c.nanos() / 1e9, ExchangeReport.bytes(c));
    }

    /** Whether to stop before the next step: a signal here, or (data-parallel) at any replica. */
    private boolean stopRequested(StopSignal.Listener stop) {
        return sync.distributed() ? sync.stopAgreed() : stop.requested() != null;
    }

    /** Rank 0 logs the refreshes of the step (every replica drains them: they are the same everywhere). */
    private void logSubspace() throws IOException {
        List<io.galore4j.projection.SubspaceStats> events = opt.drainRefreshEvents();
        if (exchange != null) {
            exchange.refreshed(events);
        }
        if (sync.writes()) {
            dir.logSubspace(events);
        }
    }

    /** Stops the run when the replicas' weights and states differ (docs/design.md §3.9). */
    private void compareReplicas(int done) {
        if (sync.agree(opt.stateChecksum(), true) != ReplicaSync.Agreement.SAME) {
            opt.close();
            throw new IllegalArgumentException(String.format("training stopped at step %d: the %d workers' weights and "
                    + "optimizer states differ (the replica check of train.check_every); the run cannot continue "
                    + "consistently: resume it from its last checkpoint", done, sync.size()));
        }
    }

    /** The clip factor of this step, min(1, c / n) with n the last step's gradient norm (TrainJob). */
    private double clipFactor() {
        return train.gradClip() > 0 && s.prevNorm > train.gradClip() ? train.gradClip() / s.prevNorm : 1.0;
    }

    /** A fine-tune's starting point: its validation loss before the first step, counted as evaluation time. */
    private double startingPoint(DoubleSupplier evaluation) {
        double v = clock.evaluate(evaluation);
        out.printf("galore finetune: %s, val_loss before %.4f%n", session.source.describe(), v);
        return v;
    }

    /**
     * Records step {@code done} as skipped (its loss {@code lossSum} when finite); ends the run
     * when {@code train.max_bad_steps} steps in a row were.
     */
    private void skip(int done, double lossSum, Progress progress) throws IOException {
        s.badSteps++;
        if (sync.writes()) {
            dir.logMetrics(MetricsLine.skipped(done, "non-finite loss or gradient", lossSum));
        }
        progress.message(String.format("step %d: non-finite loss or gradient, step skipped (%d in a row)", done,
                s.badSteps));
        if (s.badSteps >= train.maxBadSteps()) {
            opt.close();
            List<Long> kept = checkpoints.steps();
            throw new IllegalArgumentException(String.format("training stopped at step %d: %d steps in a row had a "
                    + "non-finite loss or gradient (train.max_bad_steps); %s; lower optim.lr, raise train.warmup or set "
                    + "train.grad_clip, and start again", done, s.badSteps, kept.isEmpty() ? "no checkpoint was written"
                    : "the last good checkpoint is " + checkpointDir(kept.get(kept.size() - 1))));
        }
    }

    /**
     * Writes the checkpoint of the step just done; returns its directory. Data-parallel, rank 0
     * writes it and moves {@code latest} only after every replica confirmed that its weights and
     * states equal rank 0's; the others learn whether rank 0 succeeded (docs/design.md §3.9).
     */
    private Path checkpoint() throws IOException {
        java.util.Map<String, Object> trainer = s.save(clock, job.tree(), batches, job.corpus()).toMap();
        if (!sync.distributed()) {
            return checkpoints.write(s.step, trainer, opt::saveState, train.keepCkpts());
        }
        long checksum = opt.stateChecksum();
        if (!sync.writes()) {
            confirmed(sync.agree(checksum, true));
            return checkpointDir(s.step);
        }
        boolean[] asked = {false};
        try {
            return checkpoints.write(s.step, trainer, opt::saveState, train.keepCkpts(), () -> {
                asked[0] = true;
                confirmed(sync.agree(checksum, true));
            });
        } catch (IOException | RuntimeException e) {
            if (!asked[0]) {
                sync.agree(checksum, false); // the others stop too, and learn why
            }
            throw e;
        }
    }

    /** Throws unless the replicas agreed on the checkpoint of this step. */
    private void confirmed(ReplicaSync.Agreement a) {
        switch (a) {
            case SAME -> { }
            case ROOT_FAILED -> throw new IllegalStateException("worker 0 failed to write the checkpoint of step " + s.step);
            case DIFFERENT -> throw new IllegalArgumentException(String.format("the checkpoint of step %d was not "
                    + "completed: the %d workers' weights and optimizer states differ", s.step, sync.size()));
        }
    }

    /**
     * A signal asked the run to stop after step {@code s.step}: its checkpoint (written now
     * unless {@code written}) and the exception that ends the run.
     */
    private RunStopped stopped(StopSignal.Listener stop, boolean written) throws IOException {
        Path ckpt = written ? checkpointDir(s.step) : checkpoint();
        opt.close();
        StopSignal.Stop why = stop.requested() != null ? stop.requested() : StopSignal.Stop.ELSEWHERE;
        return why.stopped(String.format("stopped at step %d (%s); checkpoint written to %s; resume with: "
                + "galore train --resume %s", s.step, why.describe(), ckpt, checkpoints.root().getParent()));
    }

    private Path checkpointDir(long step) {
        return checkpoints.root().resolve(Checkpoints.name(step));
    }

    /** Saves the model, writes the summary and its line, and closes the optimizer. */
    private Summary finish(LlamaModel net, double valBefore) throws IOException {
        // a resumed run counts the loop time of its earlier processes too, as tokens does
        double wall = (System.nanoTime() - session.created) / 1e9 + s.elapsedBefore;
        double loopSeconds = clock.trainSeconds();
        if (sync.writes()) {
            SavedModel.save(dir.path(), model, RunConfig.tokenizer(job.tree().values()).name(), opt::weight);
        }
        Summary summary = summary(net.workspaceMemory(), wall, loopSeconds, valBefore);
        if (sync.writes()) {
            dir.writeSummary(summary);
        }
        // a fine-tune keeps no copy of its starting weights: the last line says when it ended worse
        String start = session.source == null ? ""
                : String.format(s.valLoss <= valBefore ? "; val_loss before %.4f"
                        : "; worse than val_loss before %.4f (the model written is the last step's)", valBefore);
        out.printf("done: %d steps, val_loss %.4f (ppl %.3f), %.0f tokens/s (%.2f GFLOP/s), %d SVDs, peak RSS %.1f MiB%s%n",
                s.step, s.valLoss, Math.exp(s.valLoss), summary.tokensPerS(), summary.gflopsPerS(), opt.svdCount(),
                summary.peakRssBytes() / 1048576.0, start);
        opt.close();
        return summary;
    }

    private Summary summary(ActivationMemory work, double wall, double loopSeconds, double valBefore)
            throws IOException {
        Summary.Memory memory = job.memoryEstimate().live(opt.memory(), work).figures();
        boolean finetune = session.source != null;
        return new Summary(job.method(), s.step, s.tokens, wall, BlasThreads.library(), BlasThreads.current(),
                job.compute().key(), s.tokens / loopSeconds, model.flopsPerToken(),
                model.flopsPerToken() * s.tokens / loopSeconds / 1e9,
                s.valLoss, Math.exp(s.valLoss), opt.svdCount(), ProcessMemory.peakRssBytes(),
                job.memoryEstimate().figures(), model.parameterCount(), job.corpus(), memory,
                WeightFormats.of(opt.effectiveSettings(), LlamaParameters.shapes(model)),
                session.resume != null ? session.resume.step() : null, finetune ? valBefore : null,
                finetune ? session.source.describe() : null,
                sync.distributed() ? exchange.report(opt, sync, s.step) : null);
    }
}
