package io.galore4j.distributed;

import com.sun.management.OperatingSystemMXBean;
import io.galore4j.trainer.config.TrainSettings;
import java.io.File;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;
import org.apache.spark.SparkConf;

/**
 * Where a data-parallel run's workers run and how Spark is set up for them (docs/design.md §3.9).
 * With train.master unset they are separate JVMs on this machine, Spark's
 * {@code local-cluster[N,cores,memMB]}: each gets availableProcessors / N cores and as many BLAS
 * threads (when train.blas_threads is 0), so the N workers share the machine without
 * oversubscribing it. Otherwise train.master (or spark-submit's --master) names the cluster (a
 * standalone master {@code spark://host:port}, YARN, Kubernetes, or {@code local[N]}: N threads
 * of this JVM).
 *
 * @param master      the Spark master URL
 * @param blasThreads the BLAS threads each worker uses, or 0 to leave train.blas_threads as it is
 * @param conf        Spark's settings for the run
 */
record WorkerCluster(String master, int blasThreads, SparkConf conf) {

    /** The worker JVMs' memory options, as bin/galore gives a single-process run. */
    static final String WORKER_JVM_OPTIONS = "-Xmn64m -XX:+UseG1GC -XX:G1HeapRegionSize=16m";

    /** Seconds the workers have to start (their JVMs and the collective's rendezvous). */
    static final int START_TIMEOUT_S = 120;

    /** Whether the workers are JVMs this process's Spark started on this machine (local-cluster). */
    boolean onThisMachine() {
        return master.startsWith("local-cluster");
    }

    /** A local-cluster worker's memory: half the machine's, split between the workers, within these bounds. */
    private static final long MIN_WORKER_MB = 1024;
    private static final long MAX_WORKER_MB = 16384;

    /** The cluster for {@code parallel} (train.workers and train.master), with worker logs under {@code runDir}. */
    static WorkerCluster of(TrainSettings.Parallel parallel, int blasSetting, Path runDir) {
        int workers = parallel.workers();
        // unset train.master: the master spark-submit was given (its --master), else this machine
        String given = parallel.master() == null || parallel.master().isBlank()
                ? System.getProperty("spark.master") : parallel.master().strip();
        boolean thisMachine = given == null;
        int cores = Math.max(1, Runtime.getRuntime().availableProcessors() / workers);
        String master = thisMachine
                ? "local-cluster[" + workers + "," + cores + "," + workerMemoryMb(workers) + "]" : given;
        // spark.* system properties (spark-submit's --conf) come first; these fill what they leave unset
        SparkConf conf = new SparkConf().setMaster(master).setIfMissing("spark.app.name", "galore4j-train")
                .setIfMissing("spark.ui.enabled", "false")
                // only the driver's restart loop restarts workers, each time with a fresh tracker
                .set("spark.task.maxFailures", "1")
                .set("spark.stage.maxConsecutiveAttempts", "1")
                // a barrier stage waits for N free task slots, checking each second up to the start timeout
                .set("spark.scheduler.barrier.maxConcurrentTasksCheck.interval", "1s")
                .set("spark.scheduler.barrier.maxConcurrentTasksCheck.maxFailures", String.valueOf(START_TIMEOUT_S))
                .setIfMissing("spark.executor.extraClassPath", absoluteClassPath());
        // the worker JVMs get the launcher's memory options (a bounded young generation keeps the
        // resident set at the run's data plus a fixed overhead, as bin/galore explains) and its BLAS
        String blas = System.getProperty("org.bytedeco.openblas.load");
        conf.setIfMissing("spark.executor.extraJavaOptions", WORKER_JVM_OPTIONS
                + (blas != null ? " -Dorg.bytedeco.openblas.load=" + blas : ""));
        if (thisMachine) {
            conf.setIfMissing("spark.driver.host", "127.0.0.1").setIfMissing("spark.driver.bindAddress", "127.0.0.1");
            // Spark's in-process workers start executor JVMs from the Maven jars, not from a Spark
            // distribution: its test mode does so (the executors' own logs go to a temporary
            // directory Spark deletes; the workers write theirs to the run's workers/ directory)
            conf.setExecutorEnv("SPARK_TESTING", "1").setExecutorEnv("SPARK_SCALA_VERSION", "2.13");
            System.setProperty("spark.testing", "true");
            System.setProperty("spark.test.home", ReplicaWork.workersDir(runDir).toAbsolutePath().toString());
        }
        return new WorkerCluster(master, thisMachine && blasSetting == 0 ? cores : 0, conf);
    }

    private static long workerMemoryMb(int workers) {
        long total = ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getTotalMemorySize();
        return Math.max(MIN_WORKER_MB, Math.min(MAX_WORKER_MB, total / 2 / workers >> 20));
    }

    /** This JVM's class path with every entry absolute (executors resolve relative ones elsewhere). */
    static String absoluteClassPath() {
        return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(s -> !s.isBlank())
                .map(s -> new File(s).getAbsolutePath())
                .collect(Collectors.joining(File.pathSeparator));
    }
}
