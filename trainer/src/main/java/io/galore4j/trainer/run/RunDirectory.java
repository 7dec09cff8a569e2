package io.galore4j.trainer.run;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.galore4j.trainer.io.WriteFailure;
import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;

/**
 * The files of one run: {@code config.yaml} (resolved), {@code metrics.jsonl} (a line per logged
 * step), {@code subspace.jsonl} (a line per basis refresh), {@code summary.json},
 * {@code checkpoints/} and {@code plots/}.
 *
 * <p>A directory that is not empty (a run, or anything else) is never written into unless the
 * caller asks for it ({@code force}); the check happens before anything is created. Each write
 * that fails names its file ({@link WriteFailure}).
 */
public final class RunDirectory implements Closeable {

    public static final String CONFIG = "config.yaml";
    public static final String METRICS = "metrics.jsonl";
    public static final String SUBSPACE = "subspace.jsonl";
    public static final String SUMMARY = "summary.json";

    /** The help of {@code --force} for the commands that create a run directory ({@link #create}). */
    public static final String FORCE_HELP = "write into --out although it is not empty: a run there is replaced (its"
            + " summary and checkpoints deleted, its logs emptied); in a directory holding no run nothing is deleted"
            + " and only the files a run writes (config.yaml, metrics.jsonl, subspace.jsonl, summary.json,"
            + " model.safetensors, config.json) replace those of the same name";

    private static final ObjectMapper JSON = RunJson.MAPPER;
    private static final ObjectMapper PRETTY = RunJson.MAPPER.copy().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path dir;
    private final BufferedWriter metrics;
    private final BufferedWriter subspace;

    /** Opens the run's logs: emptied for a new run ({@code fresh}), appended to when it resumes. */
    private RunDirectory(Path dir, boolean fresh) throws IOException {
        this.dir = dir;
        Files.createDirectories(dir.resolve("checkpoints"));
        Files.createDirectories(dir.resolve("plots"));
        this.metrics = open(dir.resolve(METRICS), fresh);
        this.subspace = open(dir.resolve(SUBSPACE), fresh);
    }

    /**
     * Creates a run directory for a new run after the checks of {@link #checkNew}. With
     * {@code force}, a run already there is replaced: its summary and checkpoints are deleted and
     * its logs emptied. In a directory that holds no run, {@code force} deletes nothing: the files
     * a run writes (config.yaml, metrics.jsonl, subspace.jsonl, summary.json, model.safetensors,
     * config.json) replace those of the same name when they are written, and every other file
     * stays as it is.
     */
    public static RunDirectory create(Path dir, boolean force) throws IOException {
        checkNew(dir, force);
        if (force && isRun(dir)) {
            Files.deleteIfExists(dir.resolve(SUMMARY));
            Checkpoints.deleteTree(dir.resolve(Checkpoints.DIR));
        }
        return new RunDirectory(dir, true);
    }

    /**
     * The checks of {@link #create}, without creating anything: {@code dir} must be absent, empty
     * (its {@link RunLock#FILE} aside) or, with {@code force}, a run to replace or a directory whose
     * {@code checkpoints/} is empty or absent (a run prunes and replaces what is there, and a
     * directory that holds no run holds no checkpoint of ours). IllegalArgumentException naming
     * the directory and what it holds otherwise; a parent that is a file is named too.
     */
    public static void checkNew(Path dir, boolean force) throws IOException {
        for (Path p = dir.toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p)) {
                break;
            }
            if (Files.exists(p)) {
                throw new IllegalArgumentException("--out " + dir + (p.equals(dir.toAbsolutePath()) ? "" : ": " + p)
                        + " is a file, not a directory");
            }
        }
        if (!Files.isDirectory(dir)) {
            return;
        }
        if (isRun(dir)) {
            if (!force) {
                throw new IllegalArgumentException("--out " + dir + " already holds a run; choose another directory, "
                        + "--resume " + dir + " to continue it, or pass --force to replace it");
            }
            return;
        }
        List<String> held = entries(dir);
        if (!force && !held.isEmpty()) {
            throw new IllegalArgumentException("--out " + dir + " is not empty (holds " + names(held)
                    + "); choose another directory or pass --force");
        }
        Path checkpoints = dir.resolve(Checkpoints.DIR);
        if (force && Files.isDirectory(checkpoints) && !entries(checkpoints).isEmpty()) {
            throw new IllegalArgumentException("--out " + dir + " holds " + checkpoints + " but no run ("
                    + CONFIG + ", " + METRICS + "); --force replaces only a run's files: move "
                    + Checkpoints.DIR + "/ away or choose another directory");
        }
    }

    /** The names in {@code dir}, sorted, the lock file left out. */
    private static List<String> entries(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.equals(RunLock.FILE)).sorted().toList();
        }
    }

    /** "a, b, c" or "a, b, c and 4 more". */
    private static String names(List<String> names) {
        int shown = Math.min(3, names.size());
        return String.join(", ", names.subList(0, shown))
                + (names.size() > shown ? " and " + (names.size() - shown) + " more" : "");
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
        return new RunDirectory(dir, false);
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
    public void logMetrics(MetricsLine line) throws IOException {
        append(metrics, dir.resolve(METRICS), line);
    }

    /** Appends one line per basis refresh and flushes them. */
    public void logSubspace(java.util.Collection<io.galore4j.projection.SubspaceStats> refreshes) throws IOException {
        for (io.galore4j.projection.SubspaceStats e : refreshes) {
            append(subspace, dir.resolve(SUBSPACE), SubspaceLine.of(e));
        }
    }

    public void writeSummary(RunSummary summary) throws IOException {
        writeAtomically(dir.resolve(SUMMARY), PRETTY.writeValueAsString(summary));
    }

    /** Writes {@code text} (UTF-8) to a temporary sibling, then renames it onto {@code file} atomically. */
    public static void writeAtomically(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw WriteFailure.of(file, e);
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private static void append(BufferedWriter w, Path file, Object line) throws IOException {
        try {
            w.write(JSON.writeValueAsString(line));
            w.newLine();
            w.flush();
        } catch (IOException e) {
            throw WriteFailure.of(file, e);
        }
    }

    private static BufferedWriter open(Path p, boolean fresh) throws IOException {
        return Files.newBufferedWriter(p, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                fresh ? StandardOpenOption.TRUNCATE_EXISTING : StandardOpenOption.APPEND);
    }

    @Override
    public void close() throws IOException {
        metrics.close();
        subspace.close();
    }
}
