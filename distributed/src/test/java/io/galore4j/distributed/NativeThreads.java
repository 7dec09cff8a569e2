package io.galore4j.distributed;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Counts the threads native code starts, which {@link Thread#getAllStackTraces()} cannot see. */
final class NativeThreads {

    private NativeThreads() {
    }

    /**
     * Threads of this process that native code started without a name (Linux names them after
     * the process, "java"); 0 where /proc is absent. XGBoost's tracker runs on such a thread.
     */
    static long unnamed() throws IOException {
        Path tasks = Path.of("/proc/self/task");
        if (!Files.isDirectory(tasks)) {
            return 0;
        }
        try (Stream<Path> list = Files.list(tasks)) {
            return list.filter(t -> {
                try {
                    return Files.readString(t.resolve("comm")).strip().equals("java");
                } catch (IOException e) {
                    return false; // the thread ended while listed
                }
            }).count();
        }
    }
}
