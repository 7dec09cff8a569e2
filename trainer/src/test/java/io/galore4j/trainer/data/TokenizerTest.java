package io.galore4j.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class TokenizerTest {

    @Test
    void gpt2EncodesAsGpt2Does() {
        Tokenizer t = Tokenizer.named("gpt2");
        assertEquals(50257, t.vocabSize());
        // ids of GPT-2's published vocabulary: "Hello" 15496, " world" 995, "!" 0
        assertArrayEquals(new int[] {15496, 995, 0}, t.encode("Hello world!"));
        // the special token's text is ordinary text, never id 50256
        for (int id : t.encode("<|endoftext|>")) {
            assertTrue(id < 50256, "id " + id);
        }
    }

    @Test
    void gpt2RoundTripsUtf8TextThroughBytesAndStrings() {
        Tokenizer t = Tokenizer.named("gpt2");
        String text = "Herr Präsident, ĉu ĝi funkcias? Ναι — 是的. \n\n  tabs\tand spaces ";
        int[] ids = t.encode(text.getBytes(StandardCharsets.UTF_8));
        assertArrayEquals(ids, t.encode(text));
        assertTrue(ids.length < text.getBytes(StandardCharsets.UTF_8).length, "BPE merges bytes");
        assertEquals(text, t.decode(ids));
        for (int id : ids) {
            assertTrue(id >= 0 && id < t.vocabSize());
        }
    }

    @Test
    void byteTokenizerIsTheIdentityOnBytes() {
        Tokenizer t = Tokenizer.named("byte");
        assertEquals(256, t.vocabSize());
        assertArrayEquals(new int[] {0x68, 0xC3, 0xA9}, t.encode("hé"));
        assertEquals("hé", t.decode(new int[] {0x68, 0xC3, 0xA9}));
    }

    @Test
    void unknownNamesAndOutOfVocabularyIdsAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tokenizer.named("bpe"));
        assertEquals("data.tokenizer: unknown tokenizer 'bpe' (known: byte, gpt2)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tokenizer.named("gpt2").decode(new int[] {5, 50257}));
        assertTrue(e.getMessage().contains("token 50257 at index 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tokenizer.named("byte").decode(new int[] {256}));
        assertTrue(e.getMessage().contains("token 256 at index 0"), e.getMessage());
    }
}
