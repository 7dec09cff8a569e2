package io.galore4j.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CorpusTest {

    @Test
    void defaultCorpusIsTheEuroparlLineFile() {
        byte[] bytes = Corpus.load(null);
        assertEquals(21_012_848, bytes.length);
        // 17,597 lines of title \t date \t body
        int lines = 0;
        for (byte b : bytes) {
            if (b == '\n') {
                lines++;
            }
        }
        assertEquals(17_597, lines);
        TokenSplit split = new TokenSplit(new ByteTokenizer().encode(bytes), TokenSplit.DEFAULT_VAL_FRACTION);
        assertEquals(1_050_642, split.valSize()); // floor(0.05 * 21,012,848)
        assertEquals(21_012_848 - 1_050_642, split.trainSize());
    }

    @Test
    void aFileIsReadAsRawBytes(@TempDir Path dir) throws Exception {
        byte[] content = {(byte) 0xC3, (byte) 0xA9, 'a', 0, '\n', (byte) 0xFF};
        Path file = Files.write(dir.resolve("one.txt"), content);
        assertArrayEquals(content, Corpus.load(file.toString()));
    }

    @Test
    void aDirectoryIsItsRegularFilesSortedByName(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("b.txt"), "second;");
        Files.writeString(dir.resolve("a.txt"), "first;");
        Files.writeString(dir.resolve("c.txt"), "");
        Files.createDirectory(dir.resolve("a-subdir"));
        Files.writeString(dir.resolve("a-subdir").resolve("z.txt"), "ignored");
        assertEquals("first;second;", new String(Corpus.load(dir.toString()), StandardCharsets.UTF_8));
    }

    @Test
    void missingOrEmptyPathsNameThePath(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("x");
        assertEquals("data.path: no such file or directory: " + missing,
                assertThrows(IllegalArgumentException.class, () -> Corpus.load(missing.toString())).getMessage());
        Path empty = Files.createFile(dir.resolve("empty.txt"));
        assertEquals("data.path: no text in " + empty + " (empty file)",
                assertThrows(IllegalArgumentException.class, () -> Corpus.load(empty.toString())).getMessage());
        Path emptyDir = Files.createDirectory(dir.resolve("nothing"));
        assertEquals("data.path: no text in " + emptyDir + " (no non-empty regular files)",
                assertThrows(IllegalArgumentException.class, () -> Corpus.load(emptyDir.toString())).getMessage());
    }

    @Test
    void byteTokensRoundTrip() {
        ByteTokenizer tok = new ByteTokenizer();
        String text = "Grüße, Europa — ça va? 你好";
        int[] tokens = tok.encode(text);
        assertEquals(text.getBytes(StandardCharsets.UTF_8).length, tokens.length);
        for (int t : tokens) {
            assertEquals(true, t >= 0 && t < 256, "token " + t);
        }
        assertEquals(text, tok.decode(tokens));
        assertEquals(256, tok.vocabSize());
        assertEquals("token 256 at index 1 is outside the byte vocabulary [0, 256)",
                assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {65, 256})).getMessage());
    }
}
