package io.galore4j.trainer.parallel;

import io.galore4j.galore.Replicas;
import io.galore4j.trainer.TrainJob;
import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.config.TrainSettings;
import io.galore4j.trainer.run.Checkpoints;
import io.galore4j.trainer.run.RunDirectory;
import io.galore4j.trainer.run.Summary;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * One worker of a data-parallel run (docs/design.md §3.9): the training loop of
 * {@code TrainJob} on this replica's shard of every batch, exchanging gradients with the other
 * replicas through {@link Replicas}.
 */
public final class ReplicaRun {

    private ReplicaRun() {}

    /**
     * Runs replica {@code replicas.rank()} of the run in {@code runDir} with the settings of
     * {@code configYaml} (the resolved config.yaml): continues from the run's latest checkpoint
     * when it has one, else starts from the initialization (the same seed on every replica).
     * Rank 0 writes the run's files (metrics, subspace log, checkpoints once every replica
     * confirmed, model, summary); the others write nothing. Returns the run's summary on every
     * replica.
     *
     * @throws IllegalArgumentException for bad input or a training failure every replica sees
     *                                  (the same on every replica)
     * @throws IllegalStateException    when another replica failed or left (restartable)
     */
    public static Summary run(String configYaml, Path runDir, Replicas replicas, PrintStream out) throws IOException {
        boolean writes = replicas.rank() == 0;
        PrintStream console = writes ? out : new PrintStream(OutputStream.nullOutputStream());
        ConfigTree tree = ConfigTree.ofText(configYaml);
        int workers = TrainSettings.Parallel.from(tree.values()).workers();
        if (workers != replicas.size()) {
            throw new IllegalArgumentException("train.workers is " + workers + " but " + replicas.size()
                    + " workers were started");
        }
        TrainJob job = TrainJob.resolve(tree, writes ? out : null);
        Checkpoints checkpoints = new Checkpoints(runDir);
        try (Checkpoints.Loaded latest = checkpoints.latest().orElse(null)) {
            if (latest != null) {
                job.checkCompatible(latest);
            }
            TrainJob.Session session = job.start(latest, replicas);
            if (!writes) {
                return session.runReplica(null, runDir, console);
            }
            checkpoints.removeIncomplete();
            try (RunDirectory run = RunDirectory.resume(runDir, latest == null ? 0 : latest.step())) {
                return session.runReplica(run, runDir, console);
            }
        }
    }
}
