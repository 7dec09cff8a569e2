package io.galore4j.trainer;

import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.data.Corpus;
import io.galore4j.trainer.data.CorpusFingerprint;
import io.galore4j.trainer.run.Checkpoints;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * On {@code --resume}: the corpus the run reads now must be the one its checkpoint was trained on
 * (same size and SHA-256 after {@code data.line_filter}). The settings alone cannot tell: the
 * file at {@code data.path} may have been edited or replaced since.
 *
 * <p>A checkpoint written before fingerprints were recorded has none: it is resumed, with a
 * warning that its corpus could not be checked. Refusing it would leave such runs with no way to
 * continue, and its settings (data.path, data.line_filter, data.tokenizer) are still checked.
 */
final class CorpusCheck {

    /** The checkpoint's trainer.json key. */
    static final String KEY = "corpus";

    private CorpusCheck() {
    }

    /**
     * IllegalArgumentException naming what changed when checkpoint {@code c} recorded another
     * corpus than {@code now}; a line on {@code warnings} when it recorded none.
     */
    static void check(Checkpoints.Loaded c, CorpusFingerprint now, ConfigTree tree, PrintStream warnings) {
        Path file = c.dir().resolve(Checkpoints.TRAINER);
        Object saved = c.trainer().get(KEY);
        if (saved == null) {
            warnings.println("galore train: warning: " + file + " records no corpus size and hash (written by an older"
                    + " version), so the corpus cannot be checked against it; resuming with " + describe(tree) + " ("
                    + now.brief() + ")");
            return;
        }
        CorpusFingerprint then;
        try {
            then = CorpusFingerprint.fromMap(saved);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("checkpoint " + file + " is corrupt: " + e.getMessage());
        }
        if (!then.equals(now)) {
            throw new IllegalArgumentException("the corpus changed since the checkpoint " + file + ": " + describe(tree)
                    + " had " + then.brief() + ", now " + now.brief() + "; restore that text to resume the run,"
                    + " or start a new run");
        }
    }

    /** "data.path X", or "the default corpus", with the line filter when there is one. */
    static String describe(ConfigTree tree) {
        String path = tree.values().string("data.path", true);
        String filter = tree.values().isSet("data.line_filter") ? tree.values().string("data.line_filter", false) : null;
        return (Corpus.isDefault(path) ? "the default corpus" : "data.path " + path)
                + (filter == null ? "" : " with data.line_filter '" + filter + "'");
    }
}
