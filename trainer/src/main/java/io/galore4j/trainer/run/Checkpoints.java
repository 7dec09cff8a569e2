package io.galore4j.trainer.run;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.galore4j.galore.LayerwiseOptimizer;
import io.galore4j.galore.OptimizerState;
import io.galore4j.trainer.io.Dtype;
import io.galore4j.trainer.io.SafetensorsFile;
import io.galore4j.trainer.io.SafetensorsWriter;
import io.galore4j.trainer.io.TensorInfo;
import io.galore4j.trainer.io.WriteFailure;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The checkpoints of a run, under {@code checkpoints/}:
 * <pre>
 *   step-00000020/state.safetensors   every tensor of the optimizer in its stored form (INT8 weight
 *                                     codes with scales and zero points, encoded moments, INT4 bases)
 *   step-00000020/trainer.json        step, generator and sampler states, policy states, the config
 *   step-00000020/checksums.json      size and SHA-256 of the two files above ({@link CheckpointChecksums})
 *   latest                            the name of the newest complete checkpoint
 *   set-aside/step-00000040/          a later checkpoint moved away when the run went back to an
 *                                     earlier one (--resume DIR --from-step N)
 * </pre>
 * A checkpoint is written into a hidden temporary directory, each file forced to disk, the
 * checksums last; the directory is then renamed into place and {@code latest} replaced (atomic
 * renames), so a process killed at any moment leaves the previous checkpoint current and intact.
 * Then all but the newest {@code keep} checkpoints are deleted (never the one {@code latest} names).
 */
public final class Checkpoints {

    public static final String DIR = "checkpoints";
    public static final String LATEST = "latest";
    public static final String STATE = "state.safetensors";
    public static final String TRAINER = "trainer.json";
    public static final String CHECKSUMS = "checksums.json";
    /** Where {@link #rollBackTo} moves the checkpoints after the one a run goes back to. */
    public static final String SET_ASIDE = "set-aside";
    /** Bumped when the layout changes; older checkpoints are refused by name. */
    public static final int FORMAT = 1;

    private static final Pattern NAME = Pattern.compile("step-(\\d{8,})");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path root;

    /** The checkpoints of the run in {@code runDir}. */
    public Checkpoints(Path runDir) {
        this.root = runDir.resolve(DIR);
    }

    public Path root() {
        return root;
    }

    /** The directory name of the checkpoint of {@code step}. */
    public static String name(long step) {
        return String.format("step-%08d", step);
    }

    /**
     * Writes the checkpoint of {@code step}: {@code optimizer} is handed a sink for the optimizer's
     * tensors and returns its scalars ({@link io.galore4j.galore.LayerwiseOptimizer#saveState},
     * saved under {@code "optimizer"}); {@code trainer} is the JSON of everything else. Returns the checkpoint's directory.
     */
    public Path write(long step, Map<String, Object> trainer,
            Function<OptimizerState.Sink, Map<String, Object>> optimizer, int keep)
            throws IOException {
        return write(step, trainer, optimizer, keep, () -> { });
    }

    /**
     * As {@link #write(long, Map, Function, int)}, running {@code beforeLatest} once the
     * checkpoint's directory is complete and in place and before {@code latest} names it: a
     * data-parallel run's replicas confirm there (docs/design.md §3.9); when it throws,
     * {@code latest} still names the previous checkpoint.
     */
    public Path write(long step, Map<String, Object> trainer,
            Function<OptimizerState.Sink, Map<String, Object>> optimizer, int keep, Runnable beforeLatest)
            throws IOException {
        Files.createDirectories(root);
        String name = name(step);
        Path tmp = root.resolve("." + name + "." + Long.toHexString(System.nanoTime()) + ".tmp");
        Path pointer = pendingPointer();
        Files.createDirectory(tmp);
        boolean done = false;
        try {
            SafetensorsWriter w = new SafetensorsWriter(Dtype.F32);
            w.metadata("format", "galore4j-checkpoint-" + FORMAT);
            Map<String, Object> optimizerState = optimizer.apply((tensor, values) -> w.addRaw(tensor, dtypeOf(values),
                    new long[] {values.remaining()}, () -> values));
            w.write(tmp.resolve(STATE));
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("format", FORMAT);
            json.put("step", step);
            json.putAll(trainer);
            json.put("optimizer", optimizerState);
            writeSynced(tmp.resolve(TRAINER), JSON.writeValueAsBytes(json));
            writeSynced(tmp.resolve(CHECKSUMS), JSON.writeValueAsBytes(CheckpointChecksums.of(tmp)));
            syncDirectory(tmp);
            Path target = root.resolve(name);
            if (Files.exists(target)) { // left by an earlier attempt at this step: replaced, never the current one
                deleteTree(target);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            syncDirectory(root);
            beforeLatest.run();
            writeLatest(name);
            done = true;
            prune(keep, name);
            return target;
        } catch (IOException | RuntimeException e) {
            // the previous checkpoint stays current: `latest` still names it; only this attempt's
            // temporary files go (a failure after the rename leaves a complete step directory
            // that `latest` does not name, replaced by the next attempt at that step)
            if (!done) {
                try {
                    deleteTree(tmp);
                    Files.deleteIfExists(pointer);
                } catch (IOException cleanup) {
                    e.addSuppressed(cleanup);
                }
            }
            // a file of the temporary directory (gone now) is named as the checkpoint's file
            if (e instanceof FileSystemException f && f.getFile() != null && Path.of(f.getFile()).startsWith(tmp)) {
                throw WriteFailure.at(root.resolve(name).resolve(tmp.relativize(Path.of(f.getFile()))), f);
            }
            throw e;
        }
    }

    /** The step numbers of the complete checkpoint directories, ascending. */
    public List<Long> steps() throws IOException {
        List<Long> steps = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return steps;
        }
        try (Stream<Path> s = Files.list(root)) {
            s.forEach(p -> {
                Matcher m = NAME.matcher(p.getFileName().toString());
                if (m.matches() && Files.isDirectory(p)) {
                    steps.add(Long.parseLong(m.group(1)));
                }
            });
        }
        steps.sort(null);
        return steps;
    }

    /** The checkpoint {@code latest} names, if there is one: verified against its checksums and opened. */
    public Optional<Loaded> latest() throws IOException {
        Optional<String> name = latestName();
        if (name.isPresent() && !NAME.matcher(name.get()).matches()) {
            throw new IllegalArgumentException(root.resolve(LATEST) + " does not name a checkpoint (holds '"
                    + name.get() + "')");
        }
        return name.isEmpty() ? Optional.empty() : Optional.of(open(root.resolve(name.get())));
    }

    /** What {@code latest} holds, stripped; empty when there is no pointer. */
    private Optional<String> latestName() throws IOException {
        Path pointer = root.resolve(LATEST);
        return Files.isRegularFile(pointer)
                ? Optional.of(Files.readString(pointer, StandardCharsets.UTF_8).strip()) : Optional.empty();
    }

    /**
     * Opens the checkpoint in {@code dir} after checking every file's size and SHA-256 against its
     * {@value #CHECKSUMS}; IllegalArgumentException naming the file that is missing, truncated or
     * altered.
     */
    public static Loaded open(Path dir) throws IOException {
        CheckpointChecksums.verify(dir);
        Map<String, Object> trainer;
        try {
            trainer = JSON.readValue(dir.resolve(TRAINER).toFile(), new TypeReference<>() { });
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(dir.resolve(TRAINER) + " is not valid JSON (" + e.getOriginalMessage() + ")");
        }
        if (!Integer.valueOf(FORMAT).equals(trainer.get("format")) || !(trainer.get("step") instanceof Number step)) {
            throw new IllegalArgumentException(dir.resolve(TRAINER) + " is not a galore4j checkpoint of format " + FORMAT);
        }
        return new Loaded(dir, step.longValue(), trainer, SafetensorsFile.open(dir.resolve(STATE)));
    }

    /** An opened, verified checkpoint; {@link #tensor} reads its tensors one at a time. */
    public record Loaded(Path dir, long step, Map<String, Object> trainer, SafetensorsFile state) implements Closeable {

        /**
         * Loads this checkpoint's optimizer state into {@code opt} (built with the same settings
         * and parameters), refusing a file that holds tensors {@code opt} does not read.
         */
        public void restore(LayerwiseOptimizer opt) {
            Set<String> used = opt.loadState(optimizerState(), this::tensor);
            for (TensorInfo info : state.tensors()) {
                if (!used.contains(info.name())) {
                    throw new IllegalArgumentException(dir.resolve(STATE) + " holds tensor '" + info.name()
                            + "' that this configuration does not have");
                }
            }
        }

        /** The optimizer's scalars as {@link LayerwiseOptimizer#saveState} returned them. */
        public Map<String, ?> optimizerState() {
            if (!(trainer.get("optimizer") instanceof Map<?, ?> o)) {
                throw new IllegalArgumentException("optimizer state is missing");
            }
            @SuppressWarnings("unchecked")
            Map<String, ?> optState = (Map<String, ?>) o;
            return optState;
        }

        /** The stored tensor, or null when the checkpoint has none of that name. */
        public Buffer tensor(String name) {
            if (!state.contains(name)) {
                return null;
            }
            try {
                return state.readRaw(name);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void close() throws IOException {
            state.close();
        }
    }

    /** The step {@code latest} names, or -1 when there is no readable pointer. */
    public long latestStep() throws IOException {
        Matcher m = NAME.matcher(latestName().orElse(""));
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    /**
     * The newest checkpoint before {@code step} that is complete and matches its checksums (each
     * candidate is verified, newest first), if there is one.
     */
    public Optional<Long> newestIntactBefore(long step) throws IOException {
        List<Long> steps = steps();
        for (int i = steps.size() - 1; i >= 0; i--) {
            if (steps.get(i) < step) {
                try (Loaded ok = open(root.resolve(name(steps.get(i))))) {
                    return Optional.of(ok.step());
                } catch (IllegalArgumentException damaged) {
                    // try the one before
                }
            }
        }
        return Optional.empty();
    }

    /** The checkpoint of {@code step}, verified and opened; IllegalArgumentException listing the steps there are. */
    public Loaded open(long step) throws IOException {
        Path dir = root.resolve(name(step));
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("there is no checkpoint of step " + step + " in " + root
                    + " (checkpoints of steps " + steps() + ")");
        }
        return open(dir);
    }

    /**
     * Makes the checkpoint of {@code step} the run's latest again: every checkpoint after it is
     * moved, whole and unchanged, into {@value #SET_ASIDE}/ (never deleted: only the user deletes
     * it), then {@code latest} names {@code step}. Returns where the moved checkpoints went.
     */
    public List<Path> rollBackTo(long step) throws IOException {
        List<Path> moved = new ArrayList<>();
        for (long s : steps()) {
            if (s > step) {
                Path aside = Files.createDirectories(root.resolve(SET_ASIDE));
                Path target = aside.resolve(name(s));
                for (int n = 2; Files.exists(target); n++) { // set aside before: keep that one too
                    target = aside.resolve(name(s) + "-" + n);
                }
                Files.move(root.resolve(name(s)), target, StandardCopyOption.ATOMIC_MOVE);
                moved.add(target);
            }
        }
        syncDirectory(root);
        writeLatest(name(step));
        return moved;
    }

    /** Where the new {@code latest} is written before it is renamed into place. */
    private Path pendingPointer() {
        return root.resolve("." + LATEST + ".tmp");
    }

    /** Points {@code latest} at the checkpoint {@code name} (an atomic replace). */
    private void writeLatest(String name) throws IOException {
        Path pointer = pendingPointer();
        writeSynced(pointer, (name + "\n").getBytes(StandardCharsets.UTF_8));
        Files.move(pointer, root.resolve(LATEST), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        syncDirectory(root);
    }

    /** Removes hidden temporary directories left by a process killed while writing. */
    public void removeIncomplete() throws IOException {
        if (!Files.isDirectory(root)) {
            return;
        }
        try (Stream<Path> s = Files.list(root)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String n = p.getFileName().toString();
                if (n.startsWith(".") && n.endsWith(".tmp")) {
                    deleteTree(p);
                }
            }
        }
    }

    private void prune(int keep, String current) throws IOException {
        List<Long> steps = steps();
        for (int i = 0; i < steps.size() - Math.max(1, keep); i++) {
            String n = name(steps.get(i));
            if (!n.equals(current)) {
                deleteTree(root.resolve(n));
            }
        }
    }

    private static Dtype dtypeOf(Buffer b) {
        return b instanceof ByteBuffer ? Dtype.U8 : b instanceof ShortBuffer ? Dtype.I16 : Dtype.F32;
    }

    private static void writeSynced(Path file, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        } catch (IOException e) {
            throw WriteFailure.of(file, e);
        }
    }

    private static void syncDirectory(Path dir) {
        SafetensorsWriter.syncDirectory(dir);
    }

    /** Deletes {@code p} and everything below it (nothing if it is absent). */
    public static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : (Iterable<Path>) s.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(q);
            }
        } catch (NoSuchFileException e) {
            // already gone
        }
    }
}
