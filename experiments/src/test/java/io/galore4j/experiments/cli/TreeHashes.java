package io.galore4j.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The SHA-256 of every regular file below a directory, by path relative to it: taken before a
 * command runs, compared after it, to show that the command lost or changed none of a user's files.
 */
record TreeHashes(Path root, Map<String, String> hashes) {

    /** Hashes every regular file below {@code root} (none when it does not exist). */
    static TreeHashes of(Path root) throws IOException {
        Map<String, String> h = new TreeMap<>();
        if (Files.isDirectory(root)) {
            try (Stream<Path> s = Files.walk(root)) {
                for (Path p : (Iterable<Path>) s.filter(Files::isRegularFile).sorted()::iterator) {
                    h.put(root.relativize(p).toString(), sha256(p));
                }
            }
        }
        return new TreeHashes(root, h);
    }

    /** Every file hashed here is still there with the same bytes; files added since are allowed. */
    void assertKept() throws IOException {
        Map<String, String> now = of(root).hashes();
        for (Map.Entry<String, String> e : hashes.entrySet()) {
            assertTrue(now.containsKey(e.getKey()), root.resolve(e.getKey()) + " was deleted");
            assertEquals(e.getValue(), now.get(e.getKey()), root.resolve(e.getKey()) + " was changed");
        }
    }

    /** As {@link #assertKept}, and no file was added either. */
    void assertUnchanged() throws IOException {
        assertKept();
        Map<String, String> now = of(root).hashes();
        for (String added : now.keySet()) {
            assertTrue(hashes.containsKey(added), root.resolve(added) + " was written");
        }
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
