package io.galore4j.trainer.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process's resident memory as the operating system sees it ({@code /proc/self/status}):
 * Java heap, off-heap ND4J buffers and native libraries together. ND4J's own counters miss part
 * of this, so memory claims are checked against these numbers.
 */
public final class ProcessMemory {

    private static final Path STATUS = Path.of("/proc/self/status");

    private ProcessMemory() {}

    /** Current resident set size in bytes, or -1 where /proc is not available. */
    public static long rssBytes() {
        return field("VmRSS:");
    }

    /** Peak resident set size ("high water mark") in bytes, or -1 where /proc is not available. */
    public static long peakRssBytes() {
        return field("VmHWM:");
    }

    /** The memory the kernel reports available for new allocations (MemAvailable), or -1 where unknown. */
    public static long availableBytes() {
        return field(Path.of("/proc/meminfo"), "MemAvailable:");
    }

    private static long field(String name) {
        return field(STATUS, name);
    }

    private static long field(Path file, String name) {
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.startsWith(name)) {
                    String[] parts = line.substring(name.length()).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024L; // the kernel reports kB
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
