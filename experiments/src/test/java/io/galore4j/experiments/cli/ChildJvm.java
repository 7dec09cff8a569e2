package io.galore4j.experiments.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A class of this test class path run in a child JVM (the command line's {@link Main} by default),
 * with the test JVM's BLAS choice, its stdout and stderr captured in files: for what needs a
 * process of its own (signals, locks held by another process, resource limits).
 */
final class ChildJvm implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    final Process process;
    final Path out;
    final Path err;

    private ChildJvm(Process process, Path out, Path err) {
        this.process = process;
        this.out = out;
        this.err = err;
    }

    /**
     * The java command line that runs {@code mainClass} with {@code args}. A process started with
     * SIGINT ignored (a background job of a non-interactive shell, nohup) passes that on to its
     * children, and the command line rightly keeps ignoring it; the child then starts through GNU
     * env's {@code --default-signal=INT}, so that the signal tests see the interactive behaviour.
     */
    static List<String> command(String mainClass, List<String> args) {
        List<String> cmd = new ArrayList<>(sigintIgnored() ? List.of("env", "--default-signal=INT") : List.of());
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx2g", "-XX:-UsePerfData", "--add-opens", "java.base/java.nio=ALL-UNNAMED",
                "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED"));
        // the same BLAS as this JVM (MKL and OpenBLAS round differently)
        String blas = System.getProperty("org.bytedeco.openblas.load");
        if (blas != null) {
            cmd.add("-Dorg.bytedeco.openblas.load=" + blas);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(args);
        return cmd;
    }

    /** Whether this process ignores SIGINT (bit 1 of the SigIgn mask in /proc/self/status). */
    private static boolean sigintIgnored() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("SigIgn:")) {
                    return (Long.parseUnsignedLong(line.substring(7).strip(), 16) & 2) != 0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return false;
        }
        return false;
    }

    /** Starts {@code galore ARGS}; its output goes to {@code logs}/NAME.out and NAME.err. */
    static ChildJvm galore(Path logs, String name, List<String> args) throws IOException {
        return start(logs, name, command(Main.class.getName(), args));
    }

    /** Starts {@code command}; its output goes to {@code logs}/NAME.out and NAME.err. */
    static ChildJvm start(Path logs, String name, List<String> command) throws IOException {
        Files.createDirectories(logs);
        Path out = logs.resolve(name + ".out");
        Path err = logs.resolve(name + ".err");
        Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        return new ChildJvm(p, out, err);
    }

    /**
     * Waits until the run in {@code run} has logged step {@code step} or later (metrics.jsonl),
     * returning the last step logged; -1 when the process ended first or {@code seconds} passed.
     */
    int awaitStep(Path run, int step, double seconds) throws IOException, InterruptedException {
        Path metrics = run.resolve("metrics.jsonl");
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        while (process.isAlive() && System.nanoTime() < deadline) {
            int last = lastStep(metrics);
            if (last >= step) {
                return last;
            }
            Thread.sleep(2);
        }
        return -1;
    }

    private static int lastStep(Path metrics) throws IOException {
        if (!Files.exists(metrics)) {
            return -1;
        }
        List<String> lines = Files.readAllLines(metrics);
        for (int i = lines.size() - 1; i >= 0; i--) {
            try {
                return JSON.readTree(lines.get(i)).get("step").asInt();
            } catch (IOException | NullPointerException partial) {
                // a line being written: the one before it
            }
        }
        return -1;
    }

    /** Waits for the process to end (at most {@code seconds}); its exit code. */
    int exitCode(double seconds) throws InterruptedException {
        if (!process.waitFor((long) (seconds * 1000), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("the child process did not end within " + seconds + " s");
        }
        return process.exitValue();
    }

    String stderr() throws IOException {
        return Files.readString(err);
    }

    String stdout() throws IOException {
        return Files.readString(out);
    }

    /** Ends the process (SIGKILL) if it still runs, and waits for it. */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
