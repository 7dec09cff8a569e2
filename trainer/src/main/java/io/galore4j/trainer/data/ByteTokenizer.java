package io.galore4j.trainer.data;

import java.nio.charset.StandardCharsets;

/**
 * Byte-level tokenizer: token = byte value 0…255, so any file is its own token stream and every
 * token sequence decodes (text is UTF-8; invalid sequences decode to U+FFFD).
 */
public final class ByteTokenizer implements Tokenizer {

    /** The vocabulary: one token per byte value. */
    public static final int VOCAB_SIZE = 256;

    @Override
    public String name() {
        return "byte";
    }

    @Override
    public int vocabSize() {
        return VOCAB_SIZE;
    }

    /** The tokens of raw bytes (unsigned byte values). */
    @Override
    public int[] encode(byte[] bytes) {
        int[] tokens = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            tokens[i] = bytes[i] & 0xFF;
        }
        return tokens;
    }

    /** The tokens of {@code text} in UTF-8. */
    @Override
    public int[] encode(String text) {
        return encode(text.getBytes(StandardCharsets.UTF_8));
    }

    /** The bytes of {@code tokens}; IllegalArgumentException for a token outside 0…255. */
    public byte[] decodeBytes(int[] tokens) {
        byte[] bytes = new byte[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            int t = tokens[i];
            if (t < 0 || t >= VOCAB_SIZE) {
                throw new IllegalArgumentException("token " + t + " at index " + i
                        + " is outside the byte vocabulary [0, 256)");
            }
            bytes[i] = (byte) t;
        }
        return bytes;
    }

    /** The text of {@code tokens} read as UTF-8 (for printing samples). */
    @Override
    public String decode(int[] tokens) {
        return new String(decodeBytes(tokens), StandardCharsets.UTF_8);
    }
}
