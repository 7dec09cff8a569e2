package io.galore4j.trainer.run;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/**
 * The files of one run: {@code config.yaml} (resolved), {@code metrics.jsonl} (a line per logged
 * step), {@code subspace.jsonl} (a line per basis refresh), {@code summary.json},
 * {@code checkpoints/} and {@code plots/}.
 *
 * <p>A directory that already holds a run is never written into unless the caller asks for it
 * ({@code force}); the check happens before anything is created.
 */
public final class RunDirectory implements Closeable {

    public static final String CONFIG = "config.yaml";
    public static final String METRICS = "metrics.jsonl";
    public static final String SUBSPACE = "subspace.jsonl";
    public static final String SUMMARY = "summary.json";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMapper PRETTY =
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path dir;
    private final BufferedWriter metrics;
    private final BufferedWriter subspace;

    private RunDirectory(Path dir) throws IOException {
        this.dir = dir;
        Files.createDirectories(dir.resolve("checkpoints"));
        Files.createDirectories(dir.resolve("plots"));
        this.metrics = open(dir.resolve(METRICS));
        this.subspace = open(dir.resolve(SUBSPACE));
    }

    /**
     * Creates a run directory for a new run. Refuses (IllegalArgumentException) a path that is a
     * file, or a directory that already holds a run, unless {@code force} (then the old run's
     * files are replaced, which the user asked for explicitly).
     */
    public static RunDirectory create(Path dir, boolean force) throws IOException {
        checkNew(dir, force);
        if (force) {
            for (String f : new String[] {METRICS, SUBSPACE, SUMMARY}) {
                Files.deleteIfExists(dir.resolve(f));
            }
            Checkpoints.deleteTree(dir.resolve(Checkpoints.DIR));
        }
        return new RunDirectory(dir);
    }

    /** The checks of {@link #create}, without creating anything. */
    public static void checkNew(Path dir, boolean force) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--out " + dir + " is a file, not a directory");
        }
        if (isRun(dir) && !force) {
            throw new IllegalArgumentException("--out " + dir + " already holds a run; choose another directory, "
                    + "--resume " + dir + " to continue it, or pass --force to replace it");
        }
    }

    /**
     * Reopens the run in {@code dir} to continue it from the checkpoint of {@code step}: the log
     * lines written after that checkpoint (by the process that was stopped) are dropped, so each
     * step appears once: metrics of steps ≤ {@code step}, refreshes at steps &lt; {@code step}
     * (the optimizer's 0-based step of a refresh). Each file is rewritten atomically.
     */
    public static RunDirectory resume(Path dir, long step) throws IOException {
        if (!isRun(dir)) {
            throw new IllegalArgumentException("--resume " + dir + " is not a run directory (no " + CONFIG + ")");
        }
        keepLines(dir.resolve(METRICS), s -> s <= step);
        keepLines(dir.resolve(SUBSPACE), s -> s < step);
        Files.deleteIfExists(dir.resolve(SUMMARY));
        return new RunDirectory(dir);
    }

    private static void keepLines(Path file, java.util.function.LongPredicate keep) throws IOException {
        if (!Files.isRegularFile(file)) {
            return;
        }
        StringBuilder kept = new StringBuilder();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            com.fasterxml.jackson.databind.JsonNode n;
            try {
                n = JSON.readTree(line);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                continue; // a line cut off by the kill
            }
            if (n.has("step") && keep.test(n.get("step").asLong())) {
                kept.append(line).append('\n');
            }
        }
        writeAtomically(file, kept.toString());
    }

    /** True when {@code dir} holds the files of a run. */
    public static boolean isRun(Path dir) {
        return Files.isRegularFile(dir.resolve(CONFIG)) || Files.isRegularFile(dir.resolve(METRICS));
    }

    public Path path() {
        return dir;
    }

    public void writeConfig(String resolvedYaml) throws IOException {
        writeAtomically(dir.resolve(CONFIG), resolvedYaml);
    }

    /** Appends one metrics line and flushes it (a killed run keeps every line it logged). */
    public void logMetrics(Map<String, ?> line) throws IOException {
        append(metrics, line);
    }

    public void logSubspace(Map<String, ?> line) throws IOException {
        append(subspace, line);
    }

    public void writeSummary(Map<String, ?> summary) throws IOException {
        writeAtomically(dir.resolve(SUMMARY), PRETTY.writeValueAsString(summary));
    }

    /** Writes {@code text} (UTF-8) to a temporary sibling, then renames it onto {@code file} atomically. */
    public static void writeAtomically(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private static void append(BufferedWriter w, Map<String, ?> line) throws IOException {
        w.write(JSON.writeValueAsString(line));
        w.newLine();
        w.flush();
    }

    private static BufferedWriter open(Path p) throws IOException {
        return Files.newBufferedWriter(p, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
    }

    @Override
    public void close() throws IOException {
        metrics.close();
        subspace.close();
    }
}
