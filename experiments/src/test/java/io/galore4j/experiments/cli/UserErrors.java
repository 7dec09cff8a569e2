package io.galore4j.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

/** The command line's contract for errors: exactly one line on stderr that names the problem. */
final class UserErrors {

    private UserErrors() {
    }

    /** Exit code {@code code} and a one-line stderr mentioning each of {@code parts}. */
    static void assertOneLine(int code, Cli.Result r, String... parts) {
        assertEquals(code, r.code(), "exit code; stderr: " + r.err());
        assertOneLine(r.err(), parts);
    }

    /** {@code err} is exactly one line and mentions each of {@code parts}. */
    static void assertOneLine(String err, String... parts) {
        assertFalse(err.isBlank(), "a message on stderr");
        assertFalse(err.strip().contains("\n"), "exactly one line on stderr: " + err);
        for (String p : parts) {
            if (!err.contains(p)) {
                fail("stderr names '" + p + "': " + err);
            }
        }
    }
}
