package io.galore4j.trainer.data;

import io.galore4j.trainer.config.ConfigValues;
import java.io.PrintStream;

/**
 * The text of a run, tokenized and cut into training and validation parts, from the {@code data.*}
 * keys: {@code path} (null: the default corpus), {@code line_filter} (keep only matching lines),
 * {@code tokenizer} and {@code val_fraction}.
 */
public record Dataset(Tokenizer tokenizer, TokenSplit split) {

    /**
     * Reads, filters and tokenizes the text; prints its size in bytes and tokens to {@code log}
     * (if not null) as "galore {@code task}: corpus of …". IllegalArgumentException naming the key
     * of a bad setting.
     */
    public static Dataset load(ConfigValues v, String task, PrintStream log) {
        Tokenizer tokenizer = Tokenizer.named(v.string("data.tokenizer", false));
        double valFraction = v.number("data.val_fraction", 0, 1);
        String filter = v.isSet("data.line_filter") ? v.string("data.line_filter", false) : null;
        long start = System.nanoTime();
        byte[] text = Corpus.load(v.string("data.path", true), filter);
        int[] tokens = tokenizer.encode(text);
        if (log != null) {
            log.printf("galore %s: corpus of %,d bytes → %,d %s tokens (%.1f s)%n", task, text.length, tokens.length,
                    tokenizer.name(), (System.nanoTime() - start) / 1e9);
        }
        return new Dataset(tokenizer, new TokenSplit(tokens, valFraction));
    }
}
