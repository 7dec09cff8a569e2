package io.galore4j.trainer.run;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint's {@value Checkpoints#CHECKSUMS}: the size and SHA-256 of each of its files
 * ({@value Checkpoints#STATE}, {@value Checkpoints#TRAINER}), computed when the checkpoint is
 * written (the checksums are its last file) and checked before anything of it is read, so a file
 * that is missing, truncated or altered is named instead of loaded.
 */
final class CheckpointChecksums {

    private static final List<String> FILES = List.of(Checkpoints.STATE, Checkpoints.TRAINER);
    private static final ObjectMapper JSON = new ObjectMapper();

    private CheckpointChecksums() {
    }

    /** The checksums of the files in checkpoint directory {@code dir}, as the JSON object to write. */
    static Map<String, Object> of(Path dir) throws IOException {
        Map<String, Object> sums = new LinkedHashMap<>();
        for (String f : FILES) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("bytes", Files.size(dir.resolve(f)));
            e.put("sha256", sha256(dir.resolve(f)));
            sums.put(f, e);
        }
        return sums;
    }

    /**
     * Checks every file's size and SHA-256 in checkpoint directory {@code dir} against its
     * checksums; IllegalArgumentException naming the file that is missing, truncated or altered.
     */
    static void verify(Path dir) throws IOException {
        Path sums = dir.resolve(Checkpoints.CHECKSUMS);
        if (!Files.isRegularFile(sums)) {
            throw new IllegalArgumentException("checkpoint " + dir + " is incomplete: " + sums + " is missing");
        }
        Map<String, Map<String, Object>> expected;
        try {
            expected = JSON.readValue(sums.toFile(), new TypeReference<>() { });
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(sums + " is corrupt (" + e.getOriginalMessage() + ")");
        }
        for (String f : FILES) {
            Path p = dir.resolve(f);
            Map<String, Object> e = expected.get(f);
            if (e == null) {
                throw new IllegalArgumentException(sums + " lists no checksum for " + f);
            }
            if (!Files.isRegularFile(p)) {
                throw new IllegalArgumentException("checkpoint file " + p + " is missing");
            }
            long size = Files.size(p);
            if (!(e.get("bytes") instanceof Number n) || n.longValue() != size) {
                throw new IllegalArgumentException("checkpoint file " + p + " is " + size + " bytes but was written with "
                        + e.get("bytes") + " (truncated or altered)");
            }
            if (!sha256(p).equals(e.get("sha256"))) {
                throw new IllegalArgumentException("checkpoint file " + p
                        + " does not match its SHA-256 in checksums.json (corrupted or altered)");
            }
        }
    }

    private static String sha256(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
