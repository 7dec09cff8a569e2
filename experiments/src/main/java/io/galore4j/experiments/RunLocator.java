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
import java.util.function.Consumer;

/**
 * Turns the directories given on the command line into run directories: a directory that is a
 * run ({@link RunDirectory#isRun}) stands for itself, any other directory (a sweep) for every run
 * below it. An argument that yields no run is a warning, not the end of the command: the other
 * runs are still reported; only when no argument yields a run is it an error.
 */
public final class RunLocator {

    private RunLocator() {
    }

    /**
     * The runs that {@code dirs} name, in argument order (the runs of a sweep sorted by path),
     * each once. An argument that does not exist, is not a directory, or holds no run is skipped
     * with one line to {@code warn} naming it; IllegalArgumentException when no argument holds a
     * run (naming the problem of the only argument, or saying that none of them holds a run).
     */
    public static List<Path> find(List<Path> dirs, Consumer<String> warn) throws IOException {
        Set<Path> runs = new LinkedHashSet<>();
        List<String> problems = new ArrayList<>();
        for (Path dir : dirs) {
            String problem = null;
            if (!Files.exists(dir)) {
                problem = dir + ": no such directory";
            } else if (!Files.isDirectory(dir)) {
                problem = dir + " is a file, not a run directory";
            } else {
                List<Path> found = runsBelow(dir.toAbsolutePath().normalize());
                if (found.isEmpty()) {
                    problem = dir + " is not a run directory (no " + RunDirectory.CONFIG + " or " + RunDirectory.METRICS
                            + ") and holds no runs";
                }
                runs.addAll(found);
            }
            if (problem != null) {
                problems.add(problem);
            }
        }
        if (runs.isEmpty()) {
            throw new IllegalArgumentException(problems.size() == 1 ? problems.get(0)
                    : "none of " + dirs + " is or holds a run directory");
        }
        problems.forEach(p -> warn.accept(p + "; skipped"));
        return List.copyOf(runs);
    }

    /** The deepest directory that holds every one of {@code runs} (absolute, normalized paths). */
    public static Path commonParent(List<Path> runs) {
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
