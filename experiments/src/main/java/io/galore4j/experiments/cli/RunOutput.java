package io.galore4j.experiments.cli;

import io.galore4j.trainer.run.RunDirectory;
import io.galore4j.trainer.run.RunLock;
import java.io.IOException;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code --out DIR} and {@code --force}: the new run directory of train and finetune, and how a run starts in it. */
final class RunOutput {

    @Option(names = "--out", paramLabel = "DIR", descriptionKey = "out",
            description = "run directory (default: runs/<timestamp>-<method>)")
    Path out;

    @Mixin ForceOption force;

    /** A run whose model and optimizer are built, to run in its directory. */
    interface Session {
        void run(RunDirectory run) throws IOException;
    }

    /** Builds a {@link Session}: reads the model, builds the optimizer; writes nothing. */
    interface Start {
        Session start() throws IOException;
    }

    /**
     * Runs a new run of {@code command} in --out (default {@code runs/<timestamp>-<name>}): the
     * directory is checked first ({@link RunDirectory#checkNew}, --force: write into one that is not
     * empty), then the session is built, so a failure to build it leaves the directory untouched;
     * the directory is locked ({@link RunLock}) before anything in it is written.
     */
    @SuppressWarnings("try") // the lock is held for the try block, not used in it
    void run(String command, String name, Start start) throws IOException {
        Path dir = out != null ? out : Path.of("runs", timestamp() + "-" + name);
        RunDirectory.checkNew(dir, force.force);
        Session session = start.start();
        try (RunLock lock = RunLock.acquire(dir); RunDirectory run = RunDirectory.create(dir, force.force)) {
            System.out.println("galore " + command + ": run directory " + run.path());
            session.run(run);
        }
    }

    /** The local time as it names default directories: yyyyMMdd-HHmmss. */
    static String timestamp() {
        return LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    }
}
