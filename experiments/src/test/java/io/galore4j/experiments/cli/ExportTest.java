package io.galore4j.experiments.cli;

import static io.galore4j.experiments.cli.Cli.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code galore export} writes a file that follows the safetensors specification, read here
 * from the bytes with nothing but the specification (not the project's reader): an 8-byte
 * little-endian header length, a JSON header whose entries give dtype, shape and data_offsets,
 * the byte buffer covered exactly by the tensors' ranges; and whose values are the INT8 weights
 * of the checkpoint decoded by their formula, zero_point + code × scale per group of 256.
 */
class ExportTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir static Path dir;
    static Path runDir;

    @BeforeAll
    static void train() throws Exception {
        Path text = Cli.corpus(dir);
        runDir = dir.resolve("run");
        Cli.Result r = run(Cli.withTinyModel(List.of("train", "--out", runDir.toString(), "--set",
                "data.path=" + text), "--set", "optim.method=q-galore", "--set", "optim.rank=8", "--set", "optim.refresh_gap=2", "--set", "train.steps=4",
                "--set", "train.batch_size=4", "--set", "train.warmup=1", "--set", "train.eval_batches=1"));
        assertEquals(0, r.code(), r.err());
    }

    /** The header and the tensors' bytes of a safetensors file, checked against the specification. */
    record Parsed(JsonNode header, ByteBuffer data) {
        float[] floats(String name) {
            JsonNode t = header.get(name);
            long begin = t.get("data_offsets").get(0).asLong();
            long end = t.get("data_offsets").get(1).asLong();
            String dtype = t.get("dtype").asText();
            ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            b.position((int) begin).limit((int) end);
            b = b.slice().order(ByteOrder.LITTLE_ENDIAN);
            int size = dtype.equals("F32") ? 4 : dtype.equals("BF16") ? 2 : 1;
            float[] out = new float[(int) ((end - begin) / size)];
            for (int i = 0; i < out.length; i++) {
                out[i] = switch (dtype) {
                    case "F32" -> b.getFloat();
                    case "BF16" -> Float.intBitsToFloat((b.getShort() & 0xFFFF) << 16);
                    case "U8" -> b.get() & 0xFF;
                    default -> throw new AssertionError(dtype);
                };
            }
            return out;
        }
    }

    static Parsed parse(Path file) throws Exception {
        byte[] all = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        long n = b.getLong();
        assertTrue(n > 0 && 8 + n <= all.length, "header length " + n);
        JsonNode header = JSON.readTree(new String(all, 8, (int) n, StandardCharsets.UTF_8));
        ByteBuffer data = ByteBuffer.wrap(all, 8 + (int) n, all.length - 8 - (int) n).slice();
        List<long[]> ranges = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) {
                e.getValue().fields().forEachRemaining(m -> assertTrue(m.getValue().isTextual(), "metadata values are strings"));
                continue;
            }
            JsonNode t = e.getValue();
            int size = switch (t.get("dtype").asText()) {
                case "F32" -> 4;
                case "BF16", "I16" -> 2;
                case "U8" -> 1;
                default -> throw new AssertionError("dtype " + t.get("dtype"));
            };
            long elements = 1;
            for (JsonNode d : t.get("shape")) {
                elements *= d.asLong();
            }
            long begin = t.get("data_offsets").get(0).asLong();
            long end = t.get("data_offsets").get(1).asLong();
            assertEquals(elements * size, end - begin, e.getKey() + ": byte range matches dtype and shape");
            ranges.add(new long[] {begin, end});
        }
        ranges.sort((x, y) -> Long.compare(x[0], y[0]));
        long at = 0;
        for (long[] r : ranges) {
            assertEquals(at, r[0], "ranges are contiguous, without holes or overlaps");
            at = r[1];
        }
        assertEquals(data.remaining(), at, "the ranges cover the byte buffer exactly");
        return new Parsed(header, data);
    }

    @Test
    void theExportIsValidSafetensorsHoldingTheDequantizedWeights() throws Exception {
        Path out = dir.resolve("hf/model.safetensors");
        Cli.Result r = run("export", "--run", runDir.toString(), "--to", out.toString()); // hf/ does not exist yet
        assertEquals(0, r.code(), r.err());
        Parsed exported = parse(out);
        Parsed ckpt = parse(runDir.resolve("checkpoints/step-00000004/state.safetensors"));
        JsonNode config = JSON.readTree(out.resolveSibling("config.json").toFile());
        assertEquals("LlamaForCausalLM", config.get("architectures").get(0).asText());
        assertEquals(32, config.get("hidden_size").asInt());

        int checked = 0;
        int decoded = 0;
        for (Iterator<String> it = exported.header().fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (name.equals("__metadata__")) {
                continue;
            }
            assertEquals("F32", exported.header().get(name).get("dtype").asText());
            float[] values = exported.floats(name);
            if (ckpt.header().has(name + "/weight.values")) { // kept in fp32: exported as it is
                org.junit.jupiter.api.Assertions.assertArrayEquals(ckpt.floats(name + "/weight.values"), values, name);
                checked++;
                continue;
            }
            decoded++;
            float[] codes = ckpt.floats(name + "/weight.codes");
            float[] scales = ckpt.floats(name + "/weight.scales");
            float[] zeros = ckpt.floats(name + "/weight.zero_points");
            assertEquals(codes.length, values.length, name);
            for (int i = 0; i < values.length; i++) {
                float expected = zeros[i / 256] + codes[i] * scales[i / 256];
                assertEquals(expected, values[i], Math.ulp(expected) * 2, name + "[" + i + "]");
            }
            checked++;
        }
        assertEquals(2 + 2 * 9 + 1, checked, "embedding, head, final norm and 9 tensors per layer");
        assertTrue(decoded >= 2 * 7, "q-galore keeps at least the attention and MLP weights in INT8: " + decoded);

        Path bf16 = dir.resolve("bf16/a/b/model.safetensors"); // given as a directory that does not exist yet
        assertEquals(0, run("export", "--run", runDir.toString(), "--to", dir.resolve("bf16/a/b") + "/", "--dtype", "bf16").code());
        Parsed half = parse(bf16);
        float[] full = exported.floats("model.embed_tokens.weight");
        float[] rounded = half.floats("model.embed_tokens.weight");
        for (int i = 0; i < full.length; i++) {
            assertEquals(full[i], rounded[i], Math.abs(full[i]) / 256 + 1e-30, "bf16 keeps 8 significant bits");
        }
        assertEquals("bfloat16", JSON.readTree(bf16.resolveSibling("config.json").toFile()).get("torch_dtype").asText());
    }

    @Test
    void badExportsAreOneLineWithExitCode2AndOverwriteNothing() throws Exception {
        Path existing = dir.resolve("existing.safetensors");
        Files.writeString(existing, "keep me");
        Path notADirectory = dir.resolve("a-file");
        Files.writeString(notADirectory, "keep me too");
        String[][] cases = {
            {"export", "--run", dir.resolve("none").toString(), "--to", dir.resolve("x.safetensors").toString()},
            {"export", "--run", runDir.toString(), "--to", existing.toString()},
            {"export", "--run", runDir.toString(), "--to", dir.resolve("x.bin").toString()},
            {"export", "--run", runDir.toString(), "--to", dir.resolve("y.safetensors").toString(), "--dtype", "f16"},
            {"export", "--run", runDir.toString(), "--to", notADirectory.resolve("sub/m.safetensors").toString()},
            // refused after the checks of --to: the missing directories are not created
            {"export", "--run", dir.resolve("none").toString(), "--to", dir.resolve("new/dirs/z.safetensors").toString()},
        };
        for (String[] c : cases) {
            Cli.Result r = run(c);
            assertEquals(2, r.code(), String.join(" ", c) + ": " + r.err());
            assertFalse(r.err().strip().contains("\n"), r.err());
        }
        assertEquals("keep me", Files.readString(existing));
        assertEquals("keep me too", Files.readString(notADirectory));
        assertFalse(Files.exists(dir.resolve("new")), "a refused export creates no directory");
    }
}
