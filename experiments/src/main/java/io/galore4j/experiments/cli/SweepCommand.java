package io.galore4j.experiments.cli;

import io.galore4j.experiments.Plots;
import io.galore4j.experiments.ReportTable;
import io.galore4j.experiments.Run;
import io.galore4j.experiments.SweepPlan;
import io.galore4j.trainer.TrainJob;
import io.galore4j.trainer.TrainJob;
import io.galore4j.trainer.data.Dataset;
import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.run.Checkpoints;
import io.galore4j.trainer.run.RunDirectory;
import io.galore4j.trainer.run.RunLock;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code galore sweep}: trains every combination of the grid, one after another, each in its own
 * run directory below the sweep's, then writes {@code report.md} and {@code plots/} for all of
 * them. Run again with the same arguments, it resumes: finished runs (a summary.json) are kept,
 * an interrupted run continues from its latest checkpoint (exactly, as {@code train --resume}),
 * one interrupted before its first checkpoint starts over.
 *
 * <p>Each run is a {@code galore train} in a child JVM started with this JVM's options and class
 * path: a run's peak RSS in its {@code summary.json} is its own (in one shared JVM it would be the
 * high-water mark of every run before it, heap and native memory the earlier runs left
 * resident), and one run's crash or out-of-memory ends only that run. A sweep stopped by a signal
 * passes SIGTERM to its run and waits for it to stop after its step, with a checkpoint.
 */
@Command(
        name = "sweep",
        header = "Train every combination of --grid values, then report and plot them.",
        mixinStandardHelpOptions = true,
        description = {
            "Train every combination of the --grid values, sequentially, each in its own run directory "
                    + "under --out, then write report.md and plots/ for the whole sweep.",
            "Every combination is resolved before the first run starts and before any directory is created: its "
                    + "settings, every parameter's optimizer settings for its shape (a rank above a matrix's smaller side), "
                    + "its corpus and, unless --no-memory-check, its memory estimate. Running the same command again "
                    + "resumes an interrupted sweep: finished runs are skipped, an unfinished one continues from its "
                    + "latest checkpoint."
        })
public final class SweepCommand implements Callable<Integer> {

    /** How long a sweep that is stopped waits for its run to stop (after its step, with a checkpoint). */
    private static final long CHILD_STOP_SECONDS = 120;

    /** The report of the whole sweep, in the sweep directory. */
    static final String REPORT = "report.md";

    @Mixin SettingsOptions settings;

    @Mixin MemoryCheck memoryCheck;

    @Option(names = "--grid", paramLabel = "KEY=V1,V2,...", required = true,
            description = "a setting and the values it takes (repeatable; the runs are every combination)")
    List<String> grid = new ArrayList<>();

    @Option(names = "--out", paramLabel = "DIR", description = "sweep directory (default: runs/sweep-<timestamp>)")
    Path out;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        ConfigTree base = settings.over(ConfigTree.defaults());
        SweepPlan plan = new SweepPlan(base.toYaml(), SweepPlan.parseGrid(grid));
        List<SweepPlan.Point> points = plan.points();
        Map<Map<String, Object>, Dataset> corpora = new HashMap<>(); // each distinct data section read once
        for (SweepPlan.Point p : points) { // every combination resolves before anything is written
            ConfigTree tree = tree(base, p);
            try {
                TrainJob job = TrainJob.resolve(tree, null, v -> corpora.computeIfAbsent(tree.section("data"),
                        k -> Dataset.load(v, "sweep", null)));
                job.memoryEstimate(); // sizes every parameter's optimizer state from its settings
                memoryCheck.check(job);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--grid, run " + p.name() + " (" + String.join(" ", p.assignments())
                        + "): " + e.getMessage(), e);
            }
        }
        corpora.clear();
        Path dir = out != null ? out : Path.of("runs", "sweep-" + RunOutput.timestamp());
        boolean resumed = prepare(dir, plan);
        PrintWriter stdout = spec.commandLine().getOut();
        stdout.printf("galore sweep: %d runs in %s%s%n", points.size(), dir, resumed ? " (resuming)" : "");
        stdout.flush();

        List<Path> runs = new ArrayList<>();
        for (int i = 0; i < points.size(); i++) {
            SweepPlan.Point p = points.get(i);
            Path run = dir.resolve(p.name());
            runs.add(run);
            String head = String.format("galore sweep: [%d/%d] %s (%s)", i + 1, points.size(), p.name(),
                    String.join(" ", p.assignments()));
            if (Files.isRegularFile(run.resolve(RunDirectory.SUMMARY))) {
                stdout.println(head + ": finished earlier, kept");
                stdout.flush();
                continue;
            }
            RunLock.checkFree(run); // the child locks it too; this names a run another process is training
            List<String> args = new ArrayList<>();
            Path config = null;
            if (RunDirectory.isRun(run) && hasCheckpoint(run)) {
                stdout.println(head + ": resuming from its latest checkpoint");
                args.addAll(List.of("train", "--resume", run.toString()));
            } else {
                boolean restart = Files.exists(run);
                stdout.println(head + (restart ? ": interrupted before its first checkpoint, starting over" : ""));
                config = Files.createTempFile("galore-sweep-", ".yaml");
                Files.writeString(config, tree(base, p).toYaml(), StandardCharsets.UTF_8);
                args.addAll(List.of("train", "--config", config.toString(), "--out", run.toString()));
                if (restart) {
                    args.add("--force");
                }
            }
            if (memoryCheck.off) {
                args.add("--no-memory-check");
            }
            stdout.flush();
            try {
                int code = runChild(args);
                if (code == 130 || code == 143) {
                    return code; // stopped by a signal after a checkpoint: its own line says how to resume
                }
                if (code != 0) {
                    PrintWriter err = spec.commandLine().getErr();
                    err.println("galore sweep: error: run " + p.name() + " ended with exit code " + code
                            + " (its own message is above); the same command resumes the sweep");
                    err.flush();
                    return code == Main.USER_ERROR ? Main.USER_ERROR : 1;
                }
            } finally {
                if (config != null) {
                    Files.deleteIfExists(config);
                }
            }
        }

        java.util.function.Consumer<String> warn = RunDirs.warnings(spec);
        String table = ReportTable.markdown(Run.loadAll(runs, warn));
        Files.writeString(dir.resolve(REPORT), table, StandardCharsets.UTF_8);
        stdout.print(table);
        stdout.println("galore sweep: report in " + dir.resolve(REPORT));
        Plots.write(runs, dir.resolve("plots"), stdout, warn, true);
        return 0;
    }

    /** The settings of one combination: the shared ones with its assignments applied. */
    private static ConfigTree tree(ConfigTree base, SweepPlan.Point p) {
        ConfigTree tree = base;
        for (String a : p.assignments()) {
            tree = tree.set(a);
        }
        return tree;
    }

    /**
     * Runs {@code galore ARGS} in a child JVM with this JVM's options (heap, BLAS choice, module
     * opens; a debugger agent left out) and class path, its output going where this one's goes;
     * returns its exit code. The child is ended if this JVM is.
     */
    static int runChild(List<String> args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        for (String option : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!option.startsWith("-agentlib:jdwp")) {
                cmd.add(option);
            }
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.addAll(args);
        Process child = new ProcessBuilder(cmd).inheritIO().start();
        // SIGTERM to the child, which stops after its step with a checkpoint; waited for (bounded)
        Thread stop = new Thread(() -> {
            child.destroy();
            try {
                child.waitFor(CHILD_STOP_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Runtime.getRuntime().addShutdownHook(stop);
        try {
            return child.waitFor();
        } finally {
            if (child.isAlive()) {
                child.destroy();
            }
            try {
                Runtime.getRuntime().removeShutdownHook(stop);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or about to: nothing left to undo
            }
        }
    }

    /**
     * Makes {@code dir} the sweep's directory: a new or empty directory gets the plan; one holding
     * an equal plan is resumed (returns true); anything else is refused and left untouched.
     */
    private static boolean prepare(Path dir, SweepPlan plan) throws IOException {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--out " + dir + " is a file, not a directory");
        }
        if (Files.isRegularFile(dir.resolve(SweepPlan.FILE))) {
            SweepPlan saved = SweepPlan.load(dir);
            if (!saved.equals(plan)) {
                throw new IllegalArgumentException("--out " + dir + " holds a different sweep (its " + SweepPlan.FILE
                        + " has other settings or another grid); choose another --out");
            }
            return true;
        }
        if (Files.isDirectory(dir)) {
            try (Stream<Path> entries = Files.list(dir)) {
                if (entries.findAny().isPresent()) {
                    throw new IllegalArgumentException("--out " + dir + " exists and is not a sweep directory (no "
                            + SweepPlan.FILE + "); choose another --out");
                }
            }
        }
        Files.createDirectories(dir);
        plan.save(dir);
        return false;
    }

    private static boolean hasCheckpoint(Path run) throws IOException {
        return !new Checkpoints(run).steps().isEmpty();
    }
}
