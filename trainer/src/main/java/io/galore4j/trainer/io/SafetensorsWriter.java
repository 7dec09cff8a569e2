package io.galore4j.trainer.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Writes a safetensors file: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
 * (the metadata under {@code "__metadata__"}, then each tensor's dtype, shape and data offsets),
 * padded with spaces to a multiple of 8, then the tensors' bytes back to back, little-endian and
 * row-major, in the order they were added.
 *
 * <p>Values are produced tensor by tensor while writing (a {@link Supplier} per tensor), so only
 * one tensor's copy is alive at a time. The file appears under its final name only when complete:
 * it is written to a temporary file in the same directory, forced to disk, then atomically renamed.
 */
public final class SafetensorsWriter {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CHUNK_ELEMENTS = 1 << 16;

    private record Pending(String name, Dtype dtype, long[] shape, Supplier<? extends Buffer> values) {}

    private final Dtype dtype;
    private final List<Pending> tensors = new ArrayList<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    /** A writer storing every tensor as {@code dtype}. */
    public SafetensorsWriter(Dtype dtype) {
        this.dtype = Objects.requireNonNull(dtype, "dtype");
    }

    /**
     * Adds a tensor; {@code values} is called once, while writing, and must return a buffer whose
     * remaining elements are the shape's product of values in row-major order (read in place,
     * e.g. an ND4J array's own buffer, so no copy of the tensor is made).
     */
    public SafetensorsWriter addBuffer(String name, long[] shape, Supplier<FloatBuffer> values) {
        return add(name, dtype, shape, values);
    }

    /**
     * Adds a tensor stored bit for bit: {@code values} returns a {@link ByteBuffer} for
     * {@link Dtype#U8}, a {@link ShortBuffer} for {@link Dtype#I16}, a {@link FloatBuffer} for
     * {@link Dtype#F32} (or {@link Dtype#BF16}, rounded), with the shape's product of elements remaining.
     */
    public SafetensorsWriter addRaw(String name, Dtype type, long[] shape, Supplier<? extends Buffer> values) {
        return add(name, type, shape, values);
    }

    private SafetensorsWriter add(String name, Dtype type, long[] shape, Supplier<? extends Buffer> values) {
        if (name == null || name.isEmpty() || name.equals(SafetensorsFile.METADATA_KEY)) {
            throw new IllegalArgumentException("tensor name must be non-empty and not "
                    + SafetensorsFile.METADATA_KEY + ", got '" + name + "'");
        }
        for (Pending p : tensors) {
            if (p.name.equals(name)) {
                throw new IllegalArgumentException("tensor '" + name + "' is already added");
            }
        }
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor '" + name + "': negative dimension in shape");
            }
        }
        tensors.add(new Pending(name, Objects.requireNonNull(type, "dtype"), shape.clone(),
                Objects.requireNonNull(values, "values")));
        return this;
    }

    /** Adds a tensor whose values are already in memory. */
    public SafetensorsWriter add(String name, long[] shape, float[] values) {
        return addBuffer(name, shape, () -> FloatBuffer.wrap(values));
    }

    /** Adds a {@code "__metadata__"} entry (string to string, as the format requires). */
    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
        return this;
    }

    /** Writes the file: to a temporary sibling, fsync, then an atomic rename onto {@code file}. */
    public void write(Path file) throws IOException {
        byte[] header = header();
        Path dir = file.toAbsolutePath().getParent();
        // A fresh name created here (not Files.createTempFile, whose owner-only permissions the
        // final file would keep): permissions follow the umask like the run's other files.
        Path tmp = dir.resolve("." + file.getFileName() + "." + Long.toHexString(System.nanoTime()) + ".tmp");
        boolean done = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW)) {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
                writeFully(ch, len.flip());
                writeFully(ch, ByteBuffer.wrap(header));
                ByteBuffer buf = ByteBuffer.allocate(CHUNK_ELEMENTS * 4).order(ByteOrder.LITTLE_ENDIAN);
                for (Pending p : tensors) {
                    writeValues(ch, p, buf);
                }
                ch.force(true);
            } catch (IOException e) { // a full disk or a size limit: say which file
                throw WriteFailure.of(file, e);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            done = true;
            syncDirectory(dir);
        } finally {
            if (!done) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /** The JSON header, padded with spaces so that its length is a multiple of 8. */
    byte[] header() throws IOException {
        Map<String, Object> json = new LinkedHashMap<>();
        if (!metadata.isEmpty()) {
            json.put(SafetensorsFile.METADATA_KEY, metadata);
        }
        long offset = 0;
        for (Pending p : tensors) {
            long size = Math.multiplyExact(TensorInfo.elements(p.shape), (long) p.dtype.bytes());
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("dtype", p.dtype.name());
            entry.put("shape", p.shape);
            entry.put("data_offsets", new long[] {offset, offset + size});
            json.put(p.name, entry);
            offset += size;
        }
        byte[] raw = JSON.writeValueAsString(json).getBytes(StandardCharsets.UTF_8);
        int padded = (raw.length + 7) / 8 * 8;
        byte[] header = new byte[padded];
        System.arraycopy(raw, 0, header, 0, raw.length);
        java.util.Arrays.fill(header, raw.length, padded, (byte) ' ');
        return header;
    }

    private void writeValues(FileChannel ch, Pending p, ByteBuffer buf) throws IOException {
        Buffer values = p.values.get();
        long n = TensorInfo.elements(p.shape);
        if (values == null || values.remaining() != n) {
            throw new IllegalArgumentException("tensor '" + p.name + "': shape " + java.util.Arrays.toString(p.shape)
                    + " needs " + n + " values, got " + (values == null ? "null" : values.remaining()));
        }
        boolean fits = p.dtype.isFloat() ? values instanceof FloatBuffer
                : p.dtype == Dtype.U8 ? values instanceof ByteBuffer : values instanceof ShortBuffer;
        if (!fits) {
            throw new IllegalArgumentException("tensor '" + p.name + "': a " + values.getClass().getSimpleName()
                    + " cannot be stored as " + p.dtype);
        }
        int start = values.position();
        for (int i = 0; i < n; i++) {
            if (buf.remaining() < 4) {
                writeFully(ch, buf.flip());
                buf.clear();
            }
            if (values instanceof FloatBuffer f) {
                p.dtype.put(buf, f.get(start + i));
            } else if (values instanceof ByteBuffer b) {
                buf.put(b.get(start + i));
            } else {
                buf.putShort(((ShortBuffer) values).get(start + i));
            }
        }
        writeFully(ch, buf.flip());
        buf.clear();
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** Makes the rename durable where the platform allows fsync on a directory (Linux does). */
    public static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // not supported here (e.g. Windows): the file itself is already on disk
        }
    }
}
