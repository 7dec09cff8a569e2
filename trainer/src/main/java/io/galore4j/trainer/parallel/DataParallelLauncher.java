package io.galore4j.trainer.parallel;

import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.run.Summary;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * Starts the workers of a data-parallel run (train.workers &gt; 1) and waits for them
 * (docs/design.md §3.9). The implementation lives in the distributed module, which the core
 * modules do not depend on: it is found on the classpath with {@link ServiceLoader}, and only
 * when a run asks for more than one worker, so a single-process run never loads it.
 */
public interface DataParallelLauncher {

    /**
     * Runs the data-parallel run of {@code tree} in {@code runDir}, which the caller created (or
     * reopened to resume), locked and wrote {@code config.yaml} into: starts train.workers workers
     * that run {@link ReplicaRun}, restarts them from the run's latest checkpoint after a worker
     * failed (up to train.max_restarts times), and returns the summary rank 0 wrote.
     *
     * @throws IllegalArgumentException for a failure the user must fix (bad input, a worker that
     *                                  cannot start, a port in use, restarts exhausted), naming it
     */
    Summary launch(ConfigTree tree, Path runDir, PrintStream out) throws IOException;

    /** The launcher on the classpath, if the distributed module is there. */
    static Optional<DataParallelLauncher> find() {
        return ServiceLoader.load(DataParallelLauncher.class).findFirst();
    }
}
