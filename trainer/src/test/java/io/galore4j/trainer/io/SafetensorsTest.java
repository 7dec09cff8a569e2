package io.galore4j.trainer.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The safetensors format: what the writer puts in the file, and every malformed file the reader refuses. */
class SafetensorsTest {

    @TempDir
    Path dir;

    private static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    @Test
    void roundTripKeepsEveryBitAndWritesTheHeaderFields() throws IOException {
        float[] matrix = random(7 * 5, 1);
        float[] special = {0f, -0f, Float.NaN, Float.intBitsToFloat(0x7fc12345), Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY, Float.MIN_VALUE, -Float.MAX_VALUE};
        float[] cube = random(2 * 3 * 4, 2);
        float[] scalar = {3.25f};
        Path file = dir.resolve("t.safetensors");
        new SafetensorsWriter(Dtype.F32)
                .metadata("tokenizer", "byte").metadata("hidden", "32")
                .add("a.weight", new long[] {7, 5}, matrix)
                .add("special", new long[] {8}, special)
                .addBuffer("cube", new long[] {2, 3, 4}, () -> java.nio.FloatBuffer.wrap(cube))
                .add("scalar", new long[] {}, scalar)
                .add("empty", new long[] {0, 3}, new float[0])
                .write(file);

        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(List.of("a.weight", "special", "cube", "scalar", "empty"),
                    f.tensors().stream().map(TensorInfo::name).toList());
            assertEquals(Map.of("tokenizer", "byte", "hidden", "32"), f.metadata());
            assertBits(matrix, f.read("a.weight"));
            assertBits(special, f.read("special"));
            assertBits(cube, f.read("cube"));
            assertBits(scalar, f.read("scalar"));
            assertEquals(0, f.read("empty").length);
        }

        // The bytes themselves: u64 LE header length (a multiple of 8), JSON, contiguous LE data.
        byte[] bytes = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8, "header padded to a multiple of 8");
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{"), header);
        String json0 = header.stripTrailing();
        assertTrue(json0.endsWith("}") && header.substring(json0.length()).chars().allMatch(c -> c == ' '),
                "padding is trailing spaces only");
        JsonNode json = new ObjectMapper().readTree(header);
        assertEquals("byte", json.get("__metadata__").get("tokenizer").asText());
        JsonNode a = json.get("a.weight");
        assertEquals("F32", a.get("dtype").asText());
        assertEquals("[7,5]", a.get("shape").toString());
        assertEquals("[0,140]", a.get("data_offsets").toString());
        assertEquals("[140,172]", json.get("special").get("data_offsets").toString());
        assertEquals("[172,268]", json.get("cube").get("data_offsets").toString());
        assertEquals("[]", json.get("scalar").get("shape").toString());
        assertEquals("[268,272]", json.get("scalar").get("data_offsets").toString());
        assertEquals("[272,272]", json.get("empty").get("data_offsets").toString());
        assertEquals(8 + n + 272, bytes.length, "nothing after the last tensor");
        ByteBuffer data = ByteBuffer.wrap(bytes, (int) (8 + n), 272).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(Float.floatToRawIntBits(matrix[0]), data.getInt(), "little-endian fp32, row-major");
        assertEquals(Float.floatToRawIntBits(matrix[1]), data.getInt());
    }

    @Test
    void bf16IsTheUpperHalfRoundedToNearestEven() throws IOException {
        float[] v = {
            1f,
            Float.intBitsToFloat(0x3f808000), // exactly half-way, even below: stays 0x3f80
            Float.intBitsToFloat(0x3f818000), // half-way, odd below: rounds up to 0x3f82
            Float.intBitsToFloat(0x3f808001), // above half-way: up to 0x3f81
            -2.5f, Float.NaN, Float.NEGATIVE_INFINITY
        };
        Path file = dir.resolve("b.safetensors");
        new SafetensorsWriter(Dtype.BF16).add("v", new long[] {v.length}, v).write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(Dtype.BF16, f.tensor("v").dtype());
            assertEquals(2L * v.length, f.tensor("v").end() - f.tensor("v").begin());
            float[] back = f.read("v");
            assertEquals(0x3f800000, Float.floatToRawIntBits(back[0]));
            assertEquals(0x3f800000, Float.floatToRawIntBits(back[1]));
            assertEquals(0x3f820000, Float.floatToRawIntBits(back[2]));
            assertEquals(0x3f810000, Float.floatToRawIntBits(back[3]));
            assertEquals(-2.5f, back[4]);
            assertTrue(Float.isNaN(back[5]));
            assertEquals(Float.NEGATIVE_INFINITY, back[6]);
        }
    }

    @Test
    void aFailedWriteLeavesNoFileUnderTheFinalNameAndNoTemporaryFile() throws IOException {
        Path file = dir.resolve("m.safetensors");
        SafetensorsWriter w = new SafetensorsWriter(Dtype.F32)
                .add("ok", new long[] {4}, new float[4])
                .addBuffer("broken", new long[] {4}, () -> {
                    throw new UncheckedIOException(new IOException("source failed"));
                });
        assertThrows(UncheckedIOException.class, () -> w.write(file));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(), files.toList(), "no final file and no temporary left behind");
        }
        // A previous complete file survives a failed rewrite.
        new SafetensorsWriter(Dtype.F32).add("ok", new long[] {2}, new float[] {1, 2}).write(file);
        assertThrows(UncheckedIOException.class, () -> w.write(file));
        Path plain = Files.writeString(dir.resolve("plain.txt"), "x");
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(file),
                "permissions like any other new file (not a temporary file's owner-only ones)");
        Files.delete(plain);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertArrayEquals(new float[] {1, 2}, f.read("ok"));
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(1, files.count());
        }
    }

    @Test
    void writerRejectsValuesThatDoNotFitTheShape() {
        SafetensorsWriter w = new SafetensorsWriter(Dtype.F32).add("x", new long[] {2, 3}, new float[5]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> w.write(dir.resolve("x.st")));
        assertTrue(e.getMessage().contains("'x'"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("x.st")));
    }

    // --- refusals: each message names the file (and the tensor, where there is one) ---

    @Test
    void refusesATruncatedFile() throws IOException {
        Path file = dir.resolve("trunc.safetensors");
        new SafetensorsWriter(Dtype.F32).add("first", new long[] {4}, new float[4])
                .add("last", new long[] {3, 3}, random(9, 3)).write(file);
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length - 5));
        assertRefused(file, "last", "past the end");
    }

    @Test
    void refusesAHeaderLengthBeyondTheFile() throws IOException {
        Path file = dir.resolve("long.safetensors");
        String json = "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        ByteBuffer b = ByteBuffer.allocate(8 + json.length() + 4).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(1000).put(json.getBytes(StandardCharsets.UTF_8)).putInt(0);
        Files.write(file, b.array());
        assertRefused(file, null, "header length 1000");
        b.putLong(0, -1L); // 2^64 − 1 as an unsigned length
        Files.write(file, b.array());
        assertRefused(file, null, "18446744073709551615");
        Files.write(file, new byte[] {1, 2, 3});
        assertRefused(file, null, "shorter than the 8-byte header length");
    }

    @Test
    void refusesAShapeThatDoesNotMatchItsByteRange() throws IOException {
        Path file = raw("shape.safetensors",
                "{\"ok\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[8,28]}}", 32);
        assertRefused(file, "w", "needs 24 bytes");
    }

    @Test
    void refusesOverlappingRanges() throws IOException {
        Path file = raw("overlap.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[12,28]}}", 28);
        assertRefused(file, "b", "overlap");
    }

    @Test
    void refusesUnknownDtypesBadJsonAndMalformedEntries() throws IOException {
        assertRefused(raw("dt.safetensors", "{\"q\":{\"dtype\":\"I4\",\"shape\":[2],\"data_offsets\":[0,1]}}", 1),
                "q", "unknown dtype 'I4'");
        assertRefused(raw("json.safetensors", "{\"q\":{\"dtype\":\"F32\",", 0), null, "not valid JSON");
        assertRefused(raw("dup.safetensors", "{\"q\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"q\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), null, "not valid JSON");
        assertRefused(raw("neg.safetensors", "{\"q\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4),
                "q", "shape[0]");
        assertRefused(raw("off.safetensors", "{\"q\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4]}}", 4),
                "q", "data_offsets");
        assertRefused(raw("meta.safetensors", "{\"__metadata__\":{\"n\":3}}", 0), null, "'n' is not a string");
        assertRefused(raw("arr.safetensors", "[1,2]", 0), null, "not a JSON object");
    }

    private Path raw(String name, String json, int bufferBytes) throws IOException {
        byte[] header = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + bufferBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header);
        Path file = dir.resolve(name);
        Files.write(file, b.array());
        return file;
    }

    private static void assertRefused(Path file, String tensor, String problem) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                f.tensors();
            }
        });
        String m = e.getMessage();
        assertTrue(m.contains(file.toString()), "names the file: " + m);
        if (tensor != null) {
            assertTrue(m.contains("'" + tensor + "'"), "names tensor " + tensor + ": " + m);
        }
        assertTrue(m.contains(problem), "says '" + problem + "': " + m);
    }

    private static void assertBits(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]), "element " + i);
        }
    }
}
