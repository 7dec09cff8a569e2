package io.galore4j.experiments.cli;

import io.galore4j.trainer.TrainJob;
import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.config.RunConfig;
import io.galore4j.trainer.config.TrainSettings;
import io.galore4j.trainer.parallel.DataParallelLauncher;
import io.galore4j.trainer.run.Checkpoints;
import io.galore4j.trainer.run.RunDirectory;
import io.galore4j.trainer.run.RunLock;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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

    @Mixin SettingsOptions settings;

    @Mixin RunOutput output;

    @Option(names = "--resume", paramLabel = "DIR",
            description = "continue the run in DIR from its latest checkpoint (its config.yaml, then --config and --set;"
                    + " only train.steps and the logging, evaluation and checkpoint intervals may change)")
    Path resume;

    @Option(names = "--from-step", paramLabel = "N",
            description = "with --resume: continue from the checkpoint of step N instead of the latest; the later"
                    + " checkpoints are moved to checkpoints/" + Checkpoints.SET_ASIDE + "/ and the log lines after step N dropped")
    Long fromStep;

    @Option(names = "--workers", paramLabel = "N",
            description = "train data-parallel on N workers (sets train.workers; needs the distributed build)")
    Integer workers;

    @Option(names = "--master", paramLabel = "URL",
            description = "with --workers: the Spark master the workers run on, e.g. spark://host:7077 (sets"
                    + " train.master; default: N worker processes on this machine)")
    String master;

    @Mixin MemoryCheck memoryCheck;

    @Mixin BudgetChoice budget;

    @Override
    public Integer call() throws Exception {
        if (resume != null) {
            if (budget.budget != null) {
                throw new IllegalArgumentException("--resume continues the run with its own settings: --budget does not apply");
            }
            if (output.out != null || output.force.force) {
                throw new IllegalArgumentException("--resume continues the run in its own directory: --out and --force do not apply");
            }
            resume(resume, fromStep, this::layers, memoryCheck);
            return 0;
        }
        if (fromStep != null) {
            throw new IllegalArgumentException("--from-step N goes with --resume DIR: it picks the checkpoint to continue from");
        }
        ConfigTree layered = layers(ConfigTree.defaults());
        Set<String> fixed = FixedKeys.ofSets(settings.overrides.sets);
        if (settings.config != null) {
            fixed.addAll(FixedKeys.ofFile(settings.config));
        }
        if (workers != null) {
            fixed.add("train.workers");
        }
        ConfigTree tree = BudgetChoice.choose(layered, fixed, System.out);
        TrainJob job = TrainJob.resolve(tree, System.out);
        memoryCheck.check(job);
        DataParallelLauncher launcher = launcher(tree);
        // the model and optimizer are built before the run directory is created (RunOutput#run)
        output.run("train", job.method(), () -> {
            if (launcher != null) {
                return run -> launch(launcher, tree, run);
            }
            TrainJob.Session session = job.start(null);
            return run -> session.run(run, System.out);
        });
        return 0;
    }

    /** {@code base} with --config, each --set, then --workers and --master applied. */
    private ConfigTree layers(ConfigTree base) throws IOException {
        ConfigTree tree = budget.over(settings.over(base));
        if (workers != null) {
            tree = tree.set("train.workers=" + workers);
        }
        if (master != null) {
            tree = tree.set("train.master='" + master.replace("'", "''") + "'");
        }
        return tree;
    }

    /**
     * The data-parallel launcher when the run asks for more than one worker, else null: a
     * single-process run never looks it up, so it loads no class of the distributed module.
     */
    private static DataParallelLauncher launcher(ConfigTree tree) {
        int n = TrainSettings.Parallel.from(tree.values()).workers();
        if (n <= 1) {
            return null;
        }
        return DataParallelLauncher.find().orElseThrow(() -> new IllegalArgumentException("train.workers=" + n
                + " needs the distributed module: build with -Pdistributed (bin/galore does when --workers is given)"));
    }

    /**
     * A data-parallel run of {@code tree} in {@code run} (created or reopened, and locked): the
     * resolved config.yaml, then the workers.
     */
    private static void launch(DataParallelLauncher launcher, ConfigTree tree, RunDirectory run) throws IOException {
        ConfigTree resolved = RunConfig.resolve(tree).tree();
        run.writeConfig(resolved.toYaml());
        launcher.launch(resolved, run.path(), System.out);
    }

    /** The command line's settings over a base: the defaults, or a resumed run's config.yaml. */
    @FunctionalInterface
    private interface Layers {
        ConfigTree over(ConfigTree base) throws IOException;
    }

    /**
     * Continues the run in {@code dir} from its latest checkpoint, or from that of step
     * {@code fromStep} when it is not null: the run's own config.yaml with --config and --set
     * ({@code settings}) applied, checked against the checkpoint (checksums, settings, corpus)
     * and loaded before any file of the run is changed; the directory is locked first
     * ({@link RunLock}), so a run still going in another process is refused. Going back to
     * {@code fromStep} sets the later checkpoints aside ({@link Checkpoints#rollBackTo}).
     */
    @SuppressWarnings("try") // the lock is held for the try block, not used in it
    private static void resume(Path dir, Long fromStep, Layers settings, MemoryCheck memoryCheck)
            throws IOException {
        if (!RunDirectory.isRun(dir)) {
            throw new IllegalArgumentException("--resume " + dir + " is not a run directory (no "
                    + RunDirectory.CONFIG + ")");
        }
        try (RunLock lock = RunLock.acquire(dir)) {
            resumeLocked(dir, fromStep, settings, memoryCheck);
        }
    }

    private static void resumeLocked(Path dir, Long fromStep, Layers settings, MemoryCheck memoryCheck)
            throws IOException {
        ConfigTree tree = settings.over(ConfigTree.of(dir.resolve(RunDirectory.CONFIG)));
        TrainJob job = TrainJob.resolve(tree, System.out);
        Checkpoints checkpoints = new Checkpoints(dir);
        try (Checkpoints.Loaded latest = fromStep != null ? checkpoints.open(fromStep) : latest(dir, checkpoints)) {
            job.checkCompatible(latest);
            memoryCheck.check(job);
            // data-parallel: the workers load the checkpoint themselves (the latest once the later are set aside)
            DataParallelLauncher launcher = launcher(tree);
            TrainJob.Session session = launcher == null ? job.start(latest) : null;
            checkpoints.removeIncomplete();
            if (fromStep != null) {
                for (Path moved : checkpoints.rollBackTo(fromStep)) {
                    System.out.println("galore train: " + moved.getFileName() + " (after step " + fromStep
                            + ") set aside in " + moved + "; delete it when it is no longer wanted");
                }
            }
            try (RunDirectory run = RunDirectory.resume(dir, latest.step())) {
                if (launcher != null) {
                    launch(launcher, tree, run);
                } else {
                    session.run(run, System.out);
                }
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
}
