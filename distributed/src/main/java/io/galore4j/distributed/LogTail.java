package io.galore4j.distributed;

import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Copies the lines a worker appends to its log onto the driver's output while the run goes
 * (docs/design.md §3.9: rank 0's progress, the same lines a single process prints). Only whole
 * lines are copied; on close the rest of the file is copied once more.
 */
final class LogTail implements AutoCloseable {

    private static final long POLL_MS = 200;

    private final Path file;
    private final PrintStream out;
    private final Thread thread;
    private long offset;
    private volatile boolean stopping;

    private LogTail(Path file, PrintStream out) throws IOException {
        this.file = file;
        this.out = out;
        this.offset = Files.exists(file) ? Files.size(file) : 0; // earlier processes' lines are not repeated
        this.thread = new Thread(this::follow, "galore-log-tail");
        this.thread.setDaemon(true);
    }

    /** Follows {@code file} from its current end (it may not exist yet). */
    static LogTail start(Path file, PrintStream out) throws IOException {
        LogTail tail = new LogTail(file, out);
        tail.thread.start();
        return tail;
    }

    private void follow() {
        while (!stopping) {
            copyNewLines();
            try {
                Thread.sleep(POLL_MS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private synchronized void copyNewLines() {
        try {
            if (!Files.exists(file) || Files.size(file) <= offset) {
                return;
            }
            try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
                in.seek(offset);
                byte[] bytes = new byte[(int) Math.min(in.length() - offset, 1 << 20)];
                in.readFully(bytes);
                int end = lastNewline(bytes);
                if (end >= 0) {
                    out.print(new String(bytes, 0, end + 1, StandardCharsets.UTF_8));
                    out.flush();
                    offset += end + 1;
                }
            }
        } catch (IOException e) {
            // the log is informational: a read that failed is tried again at the next poll
        }
    }

    private static int lastNewline(byte[] bytes) {
        for (int i = bytes.length - 1; i >= 0; i--) {
            if (bytes[i] == '\n') {
                return i;
            }
        }
        return -1;
    }

    /** Stops following and copies the lines written since the last poll. */
    @Override
    public void close() {
        stopping = true;
        thread.interrupt();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        copyNewLines();
    }
}
