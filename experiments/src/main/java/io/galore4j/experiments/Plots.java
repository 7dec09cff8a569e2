package io.galore4j.experiments;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/** The charts of {@code galore plot} and {@code galore sweep}: every chart of some runs, into one directory. */
public final class Plots {

    private Plots() {
    }

    /**
     * Writes every chart of the runs {@code found} into {@code target}, reporting to
     * {@code stdout} and each damaged file or line to {@code warn}; unless {@code replace}, an
     * image that exists already is refused (IllegalArgumentException) and left as it is.
     */
    public static void write(List<Path> found, Path target, PrintWriter stdout, Consumer<String> warn, boolean replace)
            throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<Run> runs = Run.loadAll(found, warn);
        createDirectory(target);
        PlotWriter plots = new PlotWriter(target, stdout, replace);
        TrainingCharts.writeAll(runs, plots);
        for (Run run : runs) {
            SubspaceCharts.write(run, runs.size() == 1 ? "" : "-" + fileName(run.label()), plots);
        }
        stdout.println(plots.written().size() / 2 + " charts of " + runs.size() + (runs.size() == 1 ? " run" : " runs")
                + " in " + target);
        stdout.flush();
    }

    private static void createDirectory(Path dir) throws IOException {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--out " + dir + " is a file, not a directory");
        }
        try {
            Files.createDirectories(dir);
        } catch (FileSystemException e) {
            throw new IllegalArgumentException("cannot write plots to " + dir + ": "
                    + (e.getReason() != null ? e.getReason() : e.getClass().getSimpleName()));
        }
    }

    /** A run's label as part of a file name: {@code sweep/rank=8} → {@code sweep_rank=8}. */
    private static String fileName(String label) {
        return label.replaceAll("[^A-Za-z0-9._=+-]", "_");
    }
}
