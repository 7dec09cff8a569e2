package io.galore4j.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
        byte[] content = {(byte) 0xC3, (byte) 0xA9, 'a', '\t', '\n', (byte) 0xF0, (byte) 0x9F, (byte) 0x98, (byte) 0x80};
        Path file = Files.write(dir.resolve("one.txt"), content);
        assertArrayEquals(content, Corpus.load(file.toString()));
    }

    @Test
    void theDefaultCorpusIsUtf8TextWithoutNul() {
        assertNull(TextCheck.firstProblem(Corpus.europarl()));
    }

    @Test
    void aFileThatIsNotTextIsRefusedNamingItAndTheOffsetUnlessAllowed(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("a.txt"), "fine text\n");
        byte[] nul = {'a', 'b', 'c', 0, 'd'};
        Path b = Files.write(dir.resolve("b.bin"), nul);
        assertEquals("data.path: " + b + " is not UTF-8 text: a NUL byte at byte offset 3;"
                + " set data.allow_binary: true to train on its raw bytes anyway",
                assertThrows(IllegalArgumentException.class, () -> Corpus.load(dir.toString())).getMessage());
        byte[] both = Corpus.load(dir.toString(), null, true);
        assertEquals("fine text\nabc\0d", new String(both, StandardCharsets.ISO_8859_1));

        Path latin1 = Files.write(dir.resolve("latin1.txt"), "caf\u00e9 au lait".getBytes(StandardCharsets.ISO_8859_1));
        String message = assertThrows(IllegalArgumentException.class, () -> Corpus.load(latin1.toString())).getMessage();
        assertTrue(message.contains(latin1 + " is not UTF-8 text: an invalid UTF-8 sequence starting with byte 0xE9 at byte"
                + " offset 3;"), message);
    }

    @Test
    void theFirstBadByteIsFoundWhereverItIs() {
        assertNull(TextCheck.firstProblem("Grüße — 你好 😀\n".getBytes(StandardCharsets.UTF_8)));
        assertProblem(2, "byte 0xFF", 'o', 'k', 0xFF);
        assertProblem(1, "byte 0x80", 'x', 0x80);                           // a continuation byte without a lead
        assertProblem(1, "byte 0xC0", 'x', 0xC0, 0xAF);                     // overlong '/'
        assertProblem(0, "starting with byte 0xE0", 0xE0, 0x80, 0xAF);      // overlong 3-byte form
        assertProblem(0, "starting with byte 0xED", 0xED, 0xA0, 0x80);      // a surrogate, U+D800
        assertProblem(0, "starting with byte 0xF4", 0xF4, 0x90, 0x80, 0x80); // above U+10FFFF
        assertProblem(1, "starting with byte 0xC3", 'a', 0xC3, 'b');        // a missing continuation byte
        assertProblem(3, "cut off by the end of the file", 'a', 'b', 'c', 0xE2, 0x82);
        assertProblem(4, "a NUL byte", 'a', 'b', 'c', 'd', 0);
    }

    private static void assertProblem(long offset, String reason, int... bytes) {
        byte[] b = new byte[bytes.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) bytes[i];
        }
        TextCheck.Problem p = TextCheck.firstProblem(b);
        assertNotNull(p, reason);
        assertEquals(offset, p.offset(), reason);
        assertTrue(p.reason().contains(reason), p.reason());
    }

    @Test
    void aDirectoryIsDescribedAsItIsRead(@TempDir Path dir) throws Exception {
        for (String name : new String[] {"b.txt", "a.txt", "C.txt", "10.txt", "9.txt", "d.txt"}) {
            Files.writeString(dir.resolve(name), name + ";");
        }
        Files.createDirectory(dir.resolve("sub"));
        Files.writeString(dir.resolve("sub").resolve("z.txt"), "not read");
        Corpus.Listing listing = Corpus.list(dir);
        assertEquals("data.path " + dir + ": a directory; reads the 6 regular files directly inside it, not recursively"
                + " (1 other entry, subdirectories or special files, skipped), in order of file name, concatenated with no"
                + " separator between files: 10.txt, 9.txt, C.txt, a.txt, b.txt and 1 more (37 bytes)", listing.describe());
        // the description is what is read: that order, nothing between files, the subdirectory left out
        assertEquals("10.txt;9.txt;C.txt;a.txt;b.txt;d.txt;", new String(Corpus.load(dir.toString()), StandardCharsets.UTF_8));
        assertEquals(37, Corpus.load(dir.toString()).length);
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
