package io.galore4j.trainer.data;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The size and SHA-256 of the bytes a run tokenizes: the corpus as read (a directory's files
 * concatenated in the order read), after {@code data.line_filter}. Recorded in each checkpoint and
 * in summary.json, so that a resumed run can tell that its corpus is still the one it trained on.
 */
public record CorpusFingerprint(long bytes, String sha256) {

    /** The fingerprint of {@code text}. */
    public static CorpusFingerprint of(byte[] text) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            return new CorpusFingerprint(text.length, HexFormat.of().formatHex(md.digest(text)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every Java platform has SHA-256
        }
    }

    /** As JSON: {@code {"bytes": N, "sha256": "hex"}}. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("bytes", bytes);
        m.put("sha256", sha256);
        return m;
    }

    /** Reads {@link #toMap}'s form; IllegalArgumentException when it is not that. */
    public static CorpusFingerprint fromMap(Object json) {
        if (json instanceof Map<?, ?> m && m.get("bytes") instanceof Number n && m.get("sha256") instanceof String h
                && h.matches("[0-9a-f]{64}")) {
            return new CorpusFingerprint(n.longValue(), h);
        }
        throw new IllegalArgumentException("corpus must be {bytes: N, sha256: 64 hex digits}, got " + json);
    }

    /** "N bytes sha256 0123456789abcdef…" (the hash's first 16 hex digits). */
    public String brief() {
        return String.format("%,d bytes sha256 %s…", bytes, sha256.substring(0, 16));
    }
}
