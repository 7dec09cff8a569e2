package io.galore4j.trainer.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.Closeable;
import java.io.IOException;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A safetensors file opened for reading: the header is read and validated by {@link #open}, the
 * tensors' values are read on demand by {@link #read}.
 *
 * <p>Validation (each violation is an {@link IllegalArgumentException} naming the file and, where
 * there is one, the tensor): the 8-byte header length fits in the file; the header is one JSON
 * object without duplicate keys; {@code "__metadata__"}, if present, maps strings to strings; every
 * tensor has a known dtype, a shape of non-negative integers and two data offsets
 * {@code begin ≤ end}; the shape's element count times the dtype's size equals {@code end − begin};
 * every range lies inside the byte buffer, and no two non-empty ranges overlap.
 */
public final class SafetensorsFile implements Closeable {

    /** The header key of the string-to-string metadata. */
    public static final String METADATA_KEY = "__metadata__";
    /** Longest header accepted (the reference implementation's limit, 100 MB). */
    static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    private static final int CHUNK_BYTES = 1 << 18;

    private final Path file;
    private final FileChannel channel;
    private final long bufferStart;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path file, FileChannel channel, long bufferStart, Map<String, TensorInfo> tensors,
            Map<String, String> metadata) {
        this.file = file;
        this.channel = channel;
        this.bufferStart = bufferStart;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    /**
     * Opens and validates {@code file}; NoSuchFileException if it is missing, IllegalArgumentException
     * (naming the file and the tensor) if it is not a valid safetensors file.
     */
    public static SafetensorsFile open(Path file) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        try {
            long size = ch.size();
            if (size < 8) {
                throw bad(file, "is " + size + " bytes long, shorter than the 8-byte header length");
            }
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, len, 0, file);
            long n = len.flip().getLong(); // unsigned 64-bit: a negative value is ≥ 2^63
            if (n < 0 || n > size - 8) {
                throw bad(file, "header length " + Long.toUnsignedString(n) + " runs past the end of the file ("
                        + size + " bytes)");
            }
            if (n > MAX_HEADER_BYTES) {
                throw bad(file, "header length " + n + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
            }
            ByteBuffer header = ByteBuffer.allocate((int) n);
            readFully(ch, header, 8, file);
            JsonNode root;
            try {
                root = JSON.readTree(header.array());
            } catch (JsonProcessingException e) {
                throw bad(file, "header is not valid JSON (" + e.getOriginalMessage() + ")");
            }
            if (root == null || !root.isObject()) {
                throw bad(file, "header is not a JSON object");
            }
            long bufferSize = size - 8 - n;
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, TensorInfo> tensors = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getKey().equals(METADATA_KEY)) {
                    readMetadata(file, e.getValue(), metadata);
                } else {
                    tensors.put(e.getKey(), tensor(file, e.getKey(), e.getValue(), bufferSize));
                }
            }
            checkNoOverlap(file, tensors.values());
            return new SafetensorsFile(file, ch, 8 + n, tensors, metadata);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    public Path path() {
        return file;
    }

    /** Every tensor's header entry, in header order. */
    public List<TensorInfo> tensors() {
        return List.copyOf(tensors.values());
    }

    /** True if the file holds a tensor called {@code name}. */
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** The header entry of {@code name}; IllegalArgumentException naming the file if absent. */
    public TensorInfo tensor(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw bad(file, "has no tensor '" + name + "'");
        }
        return t;
    }

    /** The {@code "__metadata__"} entries (empty if the file has none). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * The stored elements of {@code name} as they are: a {@link ByteBuffer} for U8, a
     * {@link ShortBuffer} for I16 and BF16 (raw bits), a {@link FloatBuffer} for F32 (views of one
     * little-endian copy of the tensor's bytes on the heap).
     */
    public Buffer readRaw(String name) throws IOException {
        TensorInfo t = tensor(name);
        long bytes = t.end() - t.begin();
        if (bytes > Integer.MAX_VALUE - 8) {
            throw bad(file, "tensor '" + name + "' has " + bytes + " bytes, more than a Java array holds");
        }
        ByteBuffer buf = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, buf, bufferStart + t.begin(), file);
        buf.flip();
        return switch (t.dtype()) {
            case U8 -> buf;
            case I16, BF16 -> buf.asShortBuffer();
            case F32 -> buf.asFloatBuffer();
        };
    }

    /** The values of {@code name} as fp32, row-major. */
    public float[] read(String name) throws IOException {
        TensorInfo t = tensor(name);
        if (!t.dtype().isFloat()) {
            throw bad(file, "tensor '" + name + "' holds " + t.dtype() + " codes, not floating-point values");
        }
        long n = t.elements();
        if (n > Integer.MAX_VALUE - 8) {
            throw bad(file, "tensor '" + name + "' has " + n + " elements, more than a Java array holds");
        }
        float[] out = new float[(int) n];
        Dtype d = t.dtype();
        ByteBuffer buf = ByteBuffer.allocate(CHUNK_BYTES - CHUNK_BYTES % d.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        long pos = bufferStart + t.begin();
        int i = 0;
        while (i < out.length) {
            int count = (int) Math.min(out.length - i, buf.capacity() / d.bytes());
            buf.clear().limit(count * d.bytes());
            readFully(channel, buf, pos, file);
            buf.flip();
            for (int k = 0; k < count; k++) {
                out[i++] = d.get(buf);
            }
            pos += (long) count * d.bytes();
        }
        return out;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    private static void readMetadata(Path file, JsonNode node, Map<String, String> into) {
        if (!node.isObject()) {
            throw bad(file, METADATA_KEY + " is not a JSON object");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw bad(file, METADATA_KEY + " entry '" + e.getKey() + "' is not a string");
            }
            into.put(e.getKey(), e.getValue().textValue());
        }
    }

    private static TensorInfo tensor(Path file, String name, JsonNode node, long bufferSize) {
        String where = "tensor '" + name + "'";
        if (!node.isObject()) {
            throw bad(file, where + ": header entry is not a JSON object");
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw bad(file, where + ": dtype missing or not a string");
        }
        Dtype dtype = Dtype.byName(dtypeNode.textValue());
        if (dtype == null) {
            throw bad(file, where + ": unknown dtype '" + dtypeNode.textValue() + "' (known: " + Dtype.known() + ")");
        }
        long[] shape = longs(file, where, "shape", node.get("shape"), -1);
        long[] offsets = longs(file, where, "data_offsets", node.get("data_offsets"), 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end) {
            throw bad(file, where + ": data_offsets [" + begin + ", " + end + ") end before they begin");
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(TensorInfo.elements(shape), (long) dtype.bytes());
        } catch (ArithmeticException e) {
            throw bad(file, where + ": shape " + java.util.Arrays.toString(shape) + " is too large");
        }
        if (bytes != end - begin) {
            throw bad(file, where + ": shape " + java.util.Arrays.toString(shape) + " of " + dtype + " needs " + bytes
                    + " bytes but data_offsets [" + begin + ", " + end + ") hold " + (end - begin));
        }
        if (end > bufferSize) {
            throw bad(file, where + ": data_offsets [" + begin + ", " + end + ") run past the end of the "
                    + bufferSize + "-byte buffer (truncated file?)");
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    /** A JSON array of non-negative integers ({@code length} of them, unless negative). */
    private static long[] longs(Path file, String where, String field, JsonNode node, int length) {
        if (node == null || !node.isArray() || (length >= 0 && node.size() != length)) {
            throw bad(file, where + ": " + field + " missing or not an array"
                    + (length >= 0 ? " of " + length + " integers" : ""));
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw bad(file, where + ": " + field + "[" + i + "] = " + v + " is not a non-negative integer");
            }
            out[i] = v.longValue();
        }
        return out;
    }

    private static void checkNoOverlap(Path file, Iterable<TensorInfo> all) {
        List<TensorInfo> ranges = new ArrayList<>();
        for (TensorInfo t : all) {
            if (t.end() > t.begin()) {
                ranges.add(t);
            }
        }
        ranges.sort(Comparator.comparingLong(TensorInfo::begin));
        for (int i = 1; i < ranges.size(); i++) {
            TensorInfo a = ranges.get(i - 1);
            TensorInfo b = ranges.get(i);
            if (b.begin() < a.end()) {
                throw bad(file, "tensor '" + b.name() + "': data_offsets [" + b.begin() + ", " + b.end()
                        + ") overlap those of tensor '" + a.name() + "' [" + a.begin() + ", " + a.end() + ")");
            }
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer dst, long position, Path file) throws IOException {
        long pos = position;
        while (dst.hasRemaining()) {
            int r = ch.read(dst, pos);
            if (r < 0) {
                throw bad(file, "ends unexpectedly at byte " + pos);
            }
            pos += r;
        }
    }

    private static IllegalArgumentException bad(Path file, String problem) {
        return new IllegalArgumentException(file + ": " + problem);
    }
}
