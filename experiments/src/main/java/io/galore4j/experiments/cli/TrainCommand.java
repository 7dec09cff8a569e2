package io.galore4j.experiments.cli;

import io.galore4j.trainer.MemoryEstimate;
import io.galore4j.trainer.TrainJob;
import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.run.Checkpoints;
import io.galore4j.trainer.run.ProcessMemory;
import io.galore4j.trainer.run.RunDirectory;
import io.galore4j.trainer.run.RunLock;
import java.io.IOException;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code galore train}: pretrains a model; with no arguments, micro with Q-GaLore on the default corpus. */
@Command(
        name = "train",
        mixinStandardHelpOptions = true,
        description = {
            "Pretrain a LLaMA-style model.",
            "With no arguments: the micro model on the default corpus with Q-GaLore.",
            "Settings come from the embedded defaults, then --config, then each --set in order."
        })
public final class TrainCommand implements Callable<Integer> {

    @Option(names = "--config", paramLabel = "FILE", description = "YAML file with model/data/train/optim settings")
    Path config;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "override one setting, e.g. --set train.steps=100 (repeatable)")
    List<String> sets = new ArrayList<>();

    @Option(names = "--out", paramLabel = "DIR", description = "run directory (default: runs/<timestamp>-<method>)")
    Path out;

    @Option(names = "--force", description = RunDirectory.FORCE_HELP)
    boolean force;

    @Option(names = "--resume", paramLabel = "DIR",
            description = "continue the run in DIR from its latest checkpoint (its config.yaml, then --config and --set;"
                    + " only train.steps and the logging, evaluation and checkpoint intervals may change)")
    Path resume;

    @Option(names = "--from-step", paramLabel = "N",
            description = "with --resume: continue from the checkpoint of step N instead of the latest; the later"
                    + " checkpoints are moved to checkpoints/" + Checkpoints.SET_ASIDE + "/ and the log lines after step N dropped")
    Long fromStep;

    @Option(names = "--no-memory-check",
            description = "start even when the estimated memory (galore memory) exceeds what the machine has available")
    boolean noMemoryCheck;

    @Override
    public Integer call() throws Exception {
        if (resume != null) {
            if (out != null || force) {
                throw new IllegalArgumentException("--resume continues the run in its own directory: --out and --force do not apply");
            }
            resume(resume, fromStep, config, sets, !noMemoryCheck);
            return 0;
        }
        if (fromStep != null) {
            throw new IllegalArgumentException("--from-step N goes with --resume DIR: it picks the checkpoint to continue from");
        }
        ConfigTree tree = ConfigTree.defaults().with(config, sets);
        TrainJob job = TrainJob.resolve(tree, System.out);
        train(job, out != null ? out : defaultRunDir(job.method()), force, !noMemoryCheck);
        return 0;
    }

    /**
     * Trains {@code job} in a new run directory {@code dir} ({@code force}: write into a directory
     * that is not empty, {@link RunDirectory#create}), after the memory check when
     * {@code memoryCheck}; the model and optimizer are built before the directory is created, so
     * a failure to build them leaves {@code dir} untouched. The directory is locked
     * ({@link RunLock}) before anything in it is written.
     */
    @SuppressWarnings("try") // the lock is held for the try block, not used in it
    public static void train(TrainJob job, Path dir, boolean force, boolean memoryCheck) throws IOException {
        if (memoryCheck) {
            checkMemory(job);
        }
        RunDirectory.checkNew(dir, force);
        TrainJob.Session session = job.start(null);
        try (RunLock lock = RunLock.acquire(dir); RunDirectory run = RunDirectory.create(dir, force)) {
            System.out.println("galore train: run directory " + run.path());
            session.run(run, System.out);
        }
    }

    /**
     * Continues the run in {@code dir} from its latest checkpoint, or from that of step
     * {@code fromStep} when it is not null: the run's own config.yaml with {@code config} (may be
     * null) and {@code sets} applied, checked against the checkpoint (checksums, settings, corpus)
     * and loaded before any file of the run is changed; the directory is locked first
     * ({@link RunLock}), so a run still going in another process is refused. Going back to
     * {@code fromStep} sets the later checkpoints aside ({@link Checkpoints#rollBackTo}).
     */
    @SuppressWarnings("try") // the lock is held for the try block, not used in it
    public static void resume(Path dir, Long fromStep, Path config, List<String> sets, boolean memoryCheck)
            throws IOException {
        if (!RunDirectory.isRun(dir)) {
            throw new IllegalArgumentException("--resume " + dir + " is not a run directory (no "
                    + RunDirectory.CONFIG + ")");
        }
        try (RunLock lock = RunLock.acquire(dir)) {
            resumeLocked(dir, fromStep, config, sets, memoryCheck);
        }
    }

    private static void resumeLocked(Path dir, Long fromStep, Path config, List<String> sets, boolean memoryCheck)
            throws IOException {
        ConfigTree tree = ConfigTree.of(dir.resolve(RunDirectory.CONFIG)).with(config, sets);
        TrainJob job = TrainJob.resolve(tree, System.out);
        Checkpoints checkpoints = new Checkpoints(dir);
        try (Checkpoints.Loaded latest = fromStep != null ? checkpoints.open(fromStep) : latest(dir, checkpoints)) {
            job.checkCompatible(latest);
            if (memoryCheck) {
                checkMemory(job);
            }
            TrainJob.Session session = job.start(latest);
            checkpoints.removeIncomplete();
            if (fromStep != null) {
                for (Path moved : checkpoints.rollBackTo(fromStep)) {
                    System.out.println("galore train: " + moved.getFileName() + " (after step " + fromStep
                            + ") set aside in " + moved + "; delete it when it is no longer wanted");
                }
            }
            try (RunDirectory run = RunDirectory.resume(dir, latest.step())) {
                session.run(run, System.out);
            }
        }
    }

    /**
     * The run's latest checkpoint. When it is damaged and an older one is intact, the error says
     * so and how to continue from that one.
     */
    private static Checkpoints.Loaded latest(Path dir, Checkpoints checkpoints) throws IOException {
        try {
            return checkpoints.latest().orElseThrow(() -> new IllegalArgumentException(
                    "--resume " + dir + ": the run has no checkpoint yet (" + checkpoints.root() + " is empty)"));
        } catch (IllegalArgumentException e) {
            long named = checkpoints.latestStep();
            Optional<Long> older = checkpoints.newestIntactBefore(named < 0 ? Long.MAX_VALUE : named);
            if (older.isEmpty()) {
                throw e;
            }
            throw new IllegalArgumentException(e.getMessage() + "; the checkpoint of step " + older.get()
                    + " is intact: continue from it with --resume " + dir + " --from-step " + older.get()
                    + " (the later checkpoints are set aside, not deleted)", e);
        }
    }

    /** Refuses {@code job} when its estimated memory exceeds what this machine has available. */
    public static void checkMemory(TrainJob job) throws IOException {
        long available = ProcessMemory.availableBytes();
        if (available > 0) { // unknown where /proc/meminfo is missing: no check
            checkMemory(job.memoryEstimate(), available + Math.max(0, ProcessMemory.rssBytes()));
        }
    }

    /**
     * Refuses a run whose estimated memory exceeds {@code availableBytes} (what the kernel reports
     * available plus what this process already holds) before anything is allocated or written.
     */
    static void checkMemory(MemoryEstimate estimate, long availableBytes) {
        if (estimate.totalBytes() > availableBytes) {
            throw new IllegalArgumentException(String.format(
                    "this run needs an estimated %.1f GiB (%s, %s) but the machine has %.1f GiB available; "
                            + "see `galore memory` for the breakdown, or pass --no-memory-check to start anyway",
                    estimate.totalBytes() / 1073741824.0, estimate.method(),
                    "batch " + estimate.batch() + " × seq " + estimate.seq(), availableBytes / 1073741824.0));
        }
    }

    private static Path defaultRunDir(String method) {
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        return Path.of("runs", stamp + "-" + method);
    }
}
