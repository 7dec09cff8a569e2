package io.galore4j.distributed;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.config.TrainSettings;
import io.galore4j.trainer.parallel.DataParallelLauncher;
import io.galore4j.trainer.run.RunDirectory;
import io.galore4j.trainer.run.Summary;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import io.galore4j.trainer.run.StopSignal;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * {@code galore train --workers N} (docs/design.md §3.9): N workers as one Spark barrier stage,
 * each a member of one XGBoost collective and running the trainer's replica loop, restarted
 * together by {@link RestartLoop} after a worker failed. The run directory must be readable and
 * writable at the same path by every worker: one machine, or a shared filesystem on a cluster.
 * Found by {@link DataParallelLauncher#find()} (META-INF/services).
 */
public final class SparkDataParallelLauncher implements DataParallelLauncher {

    @Override
    public Summary launch(ConfigTree tree, Path runDir, PrintStream out) throws IOException {
        runWorkers(tree, runDir, out, ReplicaWork.REPLICA_RUN);
        Path summary = runDir.resolve(RunDirectory.SUMMARY);
        if (!Files.isRegularFile(summary)) {
            throw new IllegalArgumentException("data-parallel run: the workers ended without writing " + summary);
        }
        return new ObjectMapper().readValue(summary.toFile(), Summary.class);
    }

    /**
     * Starts Spark for the run's workers, runs {@code body} on each (restarting them as
     * {@link RestartLoop} does) and stops Spark, its executors and the tracker on every path.
     */
    static void runWorkers(ConfigTree tree, Path runDir, PrintStream out, ReplicaWork.Body body) throws IOException {
        TrainSettings.Parallel parallel = TrainSettings.Parallel.from(tree.values());
        int blasSetting = tree.values().integer("train.blas_threads", 0, 1024);
        Path workers = Files.createDirectories(ReplicaWork.workersDir(runDir));
        WorkerCluster cluster = WorkerCluster.of(parallel, blasSetting, runDir);
        ConfigTree workerTree = cluster.blasThreads() > 0
                ? tree.set("train.blas_threads=" + cluster.blasThreads()) : tree;
        out.printf("galore train: %d workers on %s; their logs in %s%n", parallel.workers(), cluster.master(), workers);
        JavaSparkContext sc = start(cluster);
        // a signal to this process stops the workers after their step, with a checkpoint (StopForwarding)
        try (StopSignal.Listener stop = StopSignal.listen();
             StopForwarding forward = StopForwarding.driver(workers, stop::requested);
             LogTail tail = LogTail.start(workers.resolve("rank-0.log"), out)) {
            RestartLoop.run(sc, parallel.workers(), parallel.maxRestarts(), WorkerCluster.START_TIMEOUT_S,
                    parallel.exchangeTimeoutS(),
                    new ReplicaWork(workerTree.toYaml(), runDir, parallel.exchangeTimeoutS(), body), out,
                    () -> stop.requested() != null);
        } finally {
            sc.stop();
            if (cluster.onThisMachine()) {
                endWorkerProcesses(workers);
            }
        }
    }

    /** Seconds the worker JVMs of this machine get to exit after Spark stopped, before they are killed. */
    static final int EXIT_WAIT_S = 20;

    /**
     * Waits for the worker JVMs this machine started ({@code workers/partition-P.pid}, this host,
     * not this process) to exit once Spark has stopped, and kills those still running after
     * {@link #EXIT_WAIT_S} s: Spark stops its executors asynchronously, and a run must leave no
     * process behind.
     */
    static void endWorkerProcesses(Path workers) throws IOException {
        String host = java.net.InetAddress.getLocalHost().getHostName();
        long deadline = System.nanoTime() + EXIT_WAIT_S * 1_000_000_000L;
        try (java.util.stream.Stream<Path> files = Files.list(workers)) {
            for (Path f : files.filter(p -> p.getFileName().toString().matches("partition-\\d+\\.pid")).toList()) {
                String[] hostPid = Files.readString(f).strip().split(" ");
                if (hostPid.length != 2 || !hostPid[0].equals(host)) {
                    continue;
                }
                long pid = Long.parseLong(hostPid[1]);
                if (pid == ProcessHandle.current().pid()) {
                    continue;
                }
                ProcessHandle.of(pid).ifPresent(h -> {
                    try {
                        h.onExit().get(Math.max(0, deadline - System.nanoTime()), java.util.concurrent.TimeUnit.NANOSECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        h.destroyForcibly();
                    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                        h.destroyForcibly();
                    }
                });
            }
        }
    }

    private static JavaSparkContext start(WorkerCluster cluster) {
        try {
            JavaSparkContext sc = new JavaSparkContext(cluster.conf());
            sc.setLogLevel("WARN");
            return sc;
        } catch (Exception e) { // SparkException is checked in Java's terms, thrown unchecked
            throw new IllegalArgumentException("data-parallel run: Spark did not start on " + cluster.master() + ": "
                    + String.valueOf(e.getMessage()).strip().split("\\R")[0], e);
        }
    }
}
