package io.galore4j.distributed;

import io.galore4j.galore.Replicas;
import io.galore4j.trainer.parallel.ReplicaRun;
import io.galore4j.trainer.run.RunStopped;
import io.galore4j.trainer.run.StopSignal;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Serializable;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The body of one data-parallel worker, as a barrier task runs it (docs/design.md §3.9): records
 * where it runs ({@code workers/partition-P.pid}: host and process id), runs the replica with its
 * output in {@code workers/rank-R.log} (appended across restarts; the driver shows rank 0's), and
 * turns what it threw into a {@link WorkerFailure} of the kind the driver acts on, with the stack
 * trace of an unexpected failure appended to {@code workers/rank-R.err}.
 */
final class ReplicaWork implements BarrierWorkers.Work {

    private static final long serialVersionUID = 1L;

    /** What a replica runs: {@link ReplicaRun#run} in a real run, a stand-in in tests. */
    @FunctionalInterface
    interface Body extends Serializable {
        void run(String configYaml, Path runDir, Replicas replicas, PrintStream out) throws Exception;
    }

    /** The real worker: the trainer's replica loop. */
    static final Body REPLICA_RUN = (yaml, dir, replicas, out) -> ReplicaRun.run(yaml, dir, replicas, out);

    private final String configYaml;
    private final String runDir;
    private final int exchangeTimeoutS;
    private final Body body;

    ReplicaWork(String configYaml, Path runDir, int exchangeTimeoutS, Body body) {
        this.configYaml = configYaml;
        this.runDir = runDir.toAbsolutePath().toString();
        this.exchangeTimeoutS = exchangeTimeoutS;
        this.body = body;
    }

    /** The directory inside a run that holds its workers' logs and process ids. */
    static Path workersDir(Path runDir) {
        return runDir.resolve("workers");
    }

    @Override
    public float[] run(Collective collective, int partition) throws IOException {
        Path dir = Path.of(runDir);
        Path workers = Files.createDirectories(workersDir(dir));
        Files.writeString(workers.resolve("partition-" + partition + ".pid"),
                InetAddress.getLocalHost().getHostName() + " " + ProcessHandle.current().pid() + "\n",
                StandardCharsets.UTF_8);
        CollectiveReplicas replicas = new CollectiveReplicas(collective, exchangeTimeoutS);
        Path log = workers.resolve("rank-" + collective.rank() + ".log");
        // Ctrl-C reaches the workers' processes too (or its driver forwards it): stop after the step
        StopSignal.installInterrupt();
        try (StopForwarding stop = StopForwarding.worker(workers);
             PrintStream out = new PrintStream(new FileOutputStream(log.toFile(), true), true, StandardCharsets.UTF_8)) {
            try {
                body.run(configYaml, dir, replicas, out);
            } catch (IllegalArgumentException e) {
                throw new WorkerFailure(WorkerFailure.Kind.FIX, e.getMessage(), e);
            } catch (RunStopped e) {
                throw new WorkerFailure(WorkerFailure.Kind.STOPPED, e.exitCode() + " " + e.getMessage(), e);
            } catch (Exception | Error e) {
                trace(workers.resolve("rank-" + collective.rank() + ".err"), e);
                if (replicas.stall() != null) {
                    throw new WorkerFailure(WorkerFailure.Kind.STALLED, replicas.stall(), e);
                }
                throw new WorkerFailure(WorkerFailure.Kind.RESTART, "rank " + collective.rank() + ": " + e, e);
            }
        }
        return new float[0];
    }

    private static void trace(Path file, Throwable e) {
        try (PrintStream err = new PrintStream(new FileOutputStream(file.toFile(), true), true, StandardCharsets.UTF_8)) {
            e.printStackTrace(err);
        } catch (IOException | RuntimeException ignored) {
            // the failure itself is what the driver reports; its trace is a help, not a must
        }
    }
}
