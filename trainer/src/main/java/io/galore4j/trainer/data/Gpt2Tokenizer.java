package io.galore4j.trainer.data;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.IntArrayList;
import java.nio.charset.StandardCharsets;

/**
 * GPT-2's byte-level BPE (Radford et al. 2019): the {@code r50k_base} ranks shipped inside the
 * jtokkit jar (Maven Central, com.knuddels:jtokkit), 50,256 merge tokens plus
 * {@code <|endoftext|>} = 50256. Text is read as UTF-8 (malformed bytes become U+FFFD) and
 * encoded as ordinary text: the characters {@code <|endoftext|>} in a file are plain text, not
 * the special token. Thread-safe.
 */
public final class Gpt2Tokenizer implements Tokenizer {

    /** r50k_base's 50,256 ranks plus {@code <|endoftext|>}. */
    public static final int VOCAB_SIZE = 50257;

    private static final class Holder {
        static final Gpt2Tokenizer INSTANCE = new Gpt2Tokenizer();
    }

    private final Encoding encoding;

    private Gpt2Tokenizer() {
        encoding = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.R50K_BASE);
    }

    /** The shared instance (loading the ranks takes about a second). */
    public static Gpt2Tokenizer instance() {
        return Holder.INSTANCE;
    }

    @Override
    public String name() {
        return "gpt2";
    }

    @Override
    public int vocabSize() {
        return VOCAB_SIZE;
    }

    @Override
    public int[] encode(byte[] bytes) {
        return encode(new String(bytes, StandardCharsets.UTF_8));
    }

    @Override
    public int[] encode(String text) {
        return encoding.encodeOrdinary(text).toArray();
    }

    @Override
    public String decode(int[] tokens) {
        IntArrayList list = new IntArrayList(tokens.length);
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] >= VOCAB_SIZE) {
                throw new IllegalArgumentException("token " + tokens[i] + " at index " + i
                        + " is outside the gpt2 vocabulary [0, " + VOCAB_SIZE + ")");
            }
            list.add(tokens[i]);
        }
        return new String(encoding.decodeBytes(list), StandardCharsets.UTF_8);
    }
}
