package io.galore4j.trainer.data;

import java.util.List;

/**
 * Text to token ids and back ({@code data.tokenizer}): {@code byte} (one token per byte, 256
 * tokens) or {@code gpt2} (GPT-2's byte-level BPE, 50,257 tokens, from the jtokkit package).
 * Every token id lies in [0, {@link #vocabSize()}); the model's vocabulary must be at least that.
 */
public interface Tokenizer {

    /** The names {@link #named} accepts. */
    List<String> NAMES = List.of("byte", "gpt2");

    /** The configuration name ({@code byte}, {@code gpt2}). */
    String name();

    /** Number of token ids; every id produced is below it. */
    int vocabSize();

    /** The tokens of raw bytes (text files are read as UTF-8 by the BPE tokenizer). */
    int[] encode(byte[] bytes);

    /** The tokens of {@code text}. */
    int[] encode(String text);

    /** The text of {@code tokens}; IllegalArgumentException for an id outside the vocabulary. */
    String decode(int[] tokens);

    /** The tokenizer called {@code name}; IllegalArgumentException naming the known ones otherwise. */
    static Tokenizer named(String name) {
        if ("byte".equals(name)) {
            return new ByteTokenizer();
        }
        if ("gpt2".equals(name)) {
            return Gpt2Tokenizer.instance();
        }
        throw new IllegalArgumentException("data.tokenizer: unknown tokenizer '" + name + "' (known: "
                + String.join(", ", NAMES) + ")");
    }
}
