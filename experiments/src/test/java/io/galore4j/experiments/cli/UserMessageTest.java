package io.galore4j.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.galore4j.trainer.io.WriteFailure;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The one line the command line prints for an I/O failure: the file and the system's reason, for
 * an IOException as thrown or wrapped in an UncheckedIOException; null (a bug, with its stack
 * trace) for anything else that is not bad input.
 */
class UserMessageTest {

    @Test
    void ioFailuresNameTheFileAndTheReason() {
        assertEquals("/r/a.txt: no such file or directory", Main.userMessage(new NoSuchFileException("/r/a.txt")));
        assertEquals("/r/a.txt: no such file or directory",
                Main.userMessage(new UncheckedIOException(new NoSuchFileException("/r/a.txt"))));
        assertEquals("/r/b: permission denied", Main.userMessage(new AccessDeniedException("/r/b")));
        assertEquals("/sys/x: Operation not permitted",
                Main.userMessage(new FileSystemException("/sys/x", null, "Operation not permitted")));
        assertEquals("/r/a → /r/b: Read-only file system",
                Main.userMessage(new FileSystemException("/r/a", "/r/b", "Read-only file system")));
        assertEquals("cannot write /r/ckpt/state.safetensors: No space left on device", Main.userMessage(
                WriteFailure.of(Path.of("/r/ckpt/state.safetensors"), new IOException("No space left on device"))));
        assertEquals("cannot write /r/m.jsonl: File too large", Main.userMessage(new UncheckedIOException(
                WriteFailure.of(Path.of("/r/m.jsonl"), new IOException("File too large")))));
        assertEquals("bad value", Main.userMessage(new IllegalArgumentException("bad value")));
        assertNull(Main.userMessage(new IllegalStateException("a bug")));
        assertNull(Main.userMessage(new NullPointerException()));
    }
}
