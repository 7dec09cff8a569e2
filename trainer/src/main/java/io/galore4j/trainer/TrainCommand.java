package io.galore4j.trainer;

import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.run.Checkpoints;
import io.galore4j.trainer.run.ProcessMemory;
import io.galore4j.trainer.run.RunDirectory;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
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

    @Option(names = "--force", description = "replace the run already in --out")
    boolean force;

    @Option(names = "--resume", paramLabel = "DIR",
            description = "continue the run in DIR from its latest checkpoint (its config.yaml, then --config and --set;"
                    + " only train.steps and the logging, evaluation and checkpoint intervals may change)")
    Path resume;

    @Option(names = "--no-memory-check",
            description = "start even when the estimated memory (galore memory) exceeds what the machine has available")
    boolean noMemoryCheck;

    @Override
    public Integer call() throws Exception {
        if (resume != null) {
            return resumeRun();
        }
        ConfigTree tree = ConfigTree.defaults();
        if (config != null) {
            tree = tree.merge(config);
        }
        for (String s : sets) {
            tree = tree.set(s);
        }
        TrainJob job = TrainJob.resolve(tree, System.out);
        checkMemory(job);
        Path dir = out != null ? out : defaultRunDir(job.method());
        RunDirectory.checkNew(dir, force);
        TrainJob.Session session = job.start(null);
        try (RunDirectory run = RunDirectory.create(dir, force)) {
            System.out.println("galore train: run directory " + run.path());
            session.run(run, System.out);
        }
        return 0;
    }

    /**
     * --resume: the run's own config.yaml with the user's overrides, checked against the latest
     * checkpoint (checksums, settings) and loaded before any file of the run is changed.
     */
    private Integer resumeRun() throws Exception {
        if (out != null || force) {
            throw new IllegalArgumentException("--resume continues the run in its own directory: --out and --force do not apply");
        }
        if (!RunDirectory.isRun(resume)) {
            throw new IllegalArgumentException("--resume " + resume + " is not a run directory (no "
                    + RunDirectory.CONFIG + ")");
        }
        ConfigTree tree = ConfigTree.of(resume.resolve(RunDirectory.CONFIG));
        if (config != null) {
            tree = tree.merge(config);
        }
        for (String s : sets) {
            tree = tree.set(s);
        }
        TrainJob job = TrainJob.resolve(tree, System.out);
        Checkpoints checkpoints = new Checkpoints(resume);
        try (Checkpoints.Loaded latest = checkpoints.latest().orElseThrow(() -> new IllegalArgumentException(
                "--resume " + resume + ": the run has no checkpoint yet (" + checkpoints.root() + " is empty)"))) {
            job.checkCompatible(latest);
            checkMemory(job);
            TrainJob.Session session = job.start(latest);
            checkpoints.removeIncomplete();
            try (RunDirectory run = RunDirectory.resume(resume, latest.step())) {
                session.run(run, System.out);
            }
        }
        return 0;
    }

    private void checkMemory(TrainJob job) throws java.io.IOException {
        if (!noMemoryCheck) {
            long available = ProcessMemory.availableBytes();
            if (available > 0) { // unknown where /proc/meminfo is missing: no check
                checkMemory(job.memoryEstimate(), available + Math.max(0, ProcessMemory.rssBytes()));
            }
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
