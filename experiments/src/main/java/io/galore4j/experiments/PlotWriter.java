package io.galore4j.experiments;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.internal.chartpart.Chart;

/**
 * Writes each chart as {@code NAME.png} and {@code NAME.svg} into one directory and says on
 * stdout what it wrote, or which chart it skipped and why.
 */
final class PlotWriter {

    private final Path dir;
    private final PrintWriter out;
    private final boolean replace;
    private final List<Path> written = new ArrayList<>();

    /** {@code replace}: an image of the same name in {@code dir} is replaced, else refused. */
    PlotWriter(Path dir, PrintWriter out, boolean replace) {
        this.dir = dir;
        this.out = out;
        this.replace = replace;
    }

    void write(String name, Chart<?, ?> chart) throws IOException {
        Path png = dir.resolve(name + ".png");
        Path svg = dir.resolve(name + ".svg");
        for (Path p : new Path[] {png, svg}) {
            if (!replace && Files.exists(p)) {
                throw new IllegalArgumentException("--out " + dir + " already holds " + p.getFileName()
                        + "; choose another directory or pass --force to replace the images there");
            }
        }
        BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
        VectorGraphicsEncoder.saveVectorGraphic(chart, svg.toString(), VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
        written.add(png);
        written.add(svg);
        out.println("wrote " + png + " and .svg");
    }

    void skip(String name, String reason) {
        out.println("skipped " + name + ": " + reason);
    }

    /** The files written so far, PNG then SVG for each chart. */
    List<Path> written() {
        return written;
    }
}
