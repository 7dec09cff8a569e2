package io.galore4j.experiments;

import io.galore4j.trainer.run.RunDirectory;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Turns the directories given on the command line into run directories: a directory that is a
 * run ({@link RunDirectory#isRun}) stands for itself, any other directory (a sweep) for every run
 * below it. Every argument is checked before anything is returned, so a bad one stops a command
 * before it writes anything.
 */
final class RunLocator {

    private RunLocator() {
    }

    /**
     * The runs that {@code dirs} name, in argument order (the runs of a sweep sorted by path),
     * each once. Throws IllegalArgumentException naming the first argument that does not exist,
     * is not a directory, or holds no run.
     */
    static List<Path> find(List<Path> dirs) throws IOException {
        Set<Path> runs = new LinkedHashSet<>();
        for (Path dir : dirs) {
            if (!Files.exists(dir)) {
                throw new IllegalArgumentException(dir + ": no such directory");
            }
            if (!Files.isDirectory(dir)) {
                throw new IllegalArgumentException(dir + " is a file, not a run directory");
            }
            List<Path> found = runsBelow(dir.toAbsolutePath().normalize());
            if (found.isEmpty()) {
                throw new IllegalArgumentException(dir + " is not a run directory (no " + RunDirectory.CONFIG
                        + " or " + RunDirectory.METRICS + ") and holds no runs");
            }
            runs.addAll(found);
        }
        return List.copyOf(runs);
    }

    /** The deepest directory that holds every one of {@code runs} (absolute, normalized paths). */
    static Path commonParent(List<Path> runs) {
        Path common = runs.get(0).getParent();
        for (Path run : runs) {
            while (common != null && !run.startsWith(common)) {
                common = common.getParent();
            }
        }
        if (common == null) {
            throw new IllegalArgumentException("the runs share no parent directory; give --out");
        }
        return common;
    }

    /** {@code dir} itself when it is a run, else the runs below it (a run's own subdirectories are not searched). */
    private static List<Path> runsBelow(Path dir) throws IOException {
        List<Path> runs = new ArrayList<>();
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
                if (RunDirectory.isRun(d)) {
                    runs.add(d);
                    return FileVisitResult.SKIP_SUBTREE;
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                return FileVisitResult.CONTINUE; // an unreadable corner of a sweep holds no run we could read
            }
        });
        runs.sort(null);
        return runs;
    }
}
