package io.galore4j.trainer.data;

import io.galore4j.trainer.config.ConfigValues;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * The text of a run, tokenized and cut into training and validation parts, from the {@code data.*}
 * keys: {@code path} (null: the default corpus), {@code line_filter} (keep only matching lines),
 * {@code allow_binary} (accept files that are not UTF-8 text), {@code tokenizer} and
 * {@code val_fraction}; with the fingerprint of the bytes tokenized.
 */
public record Dataset(Tokenizer tokenizer, TokenSplit split, CorpusFingerprint corpus) {

    /**
     * Reads, filters and tokenizes the text; prints to {@code log} (if not null) what a directory
     * {@code data.path} reads ({@link Corpus.Listing#describe}) and the text's size in bytes and
     * tokens, as "galore {@code task}: corpus of …". IllegalArgumentException naming the key of a
     * bad setting.
     */
    public static Dataset load(ConfigValues v, String task, PrintStream log) {
        Tokenizer tokenizer = Tokenizer.named(v.string("data.tokenizer", false));
        double valFraction = v.number("data.val_fraction", 0, 1);
        String filter = v.isSet("data.line_filter") ? v.string("data.line_filter", false) : null;
        String path = v.string("data.path", true);
        boolean allowBinary = v.bool("data.allow_binary");
        long start = System.nanoTime();
        if (log != null && !Corpus.isDefault(path)) {
            try {
                Corpus.Listing listing = Corpus.list(Path.of(path));
                if (listing.directory()) {
                    log.printf("galore %s: %s%n", task, listing.describe());
                }
            } catch (IOException e) {
                throw new UncheckedIOException("data.path: cannot list " + path + ": " + e.getMessage(), e);
            }
        }
        byte[] text = Corpus.load(path, filter, allowBinary);
        CorpusFingerprint fingerprint = CorpusFingerprint.of(text);
        int[] tokens = tokenizer.encode(text);
        if (log != null) {
            log.printf("galore %s: corpus of %,d bytes → %,d %s tokens (%.1f s)%n", task, text.length, tokens.length,
                    tokenizer.name(), (System.nanoTime() - start) / 1e9);
        }
        return new Dataset(tokenizer, new TokenSplit(tokens, valFraction), fingerprint);
    }
}
