package io.galore4j.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

/**
 * {@code galore report} and {@code galore plot} on two tiny runs (adamw and q-galore, six steps)
 * in one sweep directory: the table's numbers are the runs' summary.json, its option columns are
 * exactly the options that differ, every image has content; a damaged run or line is a warning
 * and the rest is reported, and input with no usable run is one line, exit 2.
 */
class ReportAndPlotTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The charts of the whole sweep, and the subspace charts only q-galore has. */
    private static final List<String> SWEEP_CHARTS = List.of("loss-step", "loss-tokens", "val-loss-step", "memory");
    private static final List<String> SUBSPACE_CHARTS = List.of("overlap", "cosine", "gap", "energy", "svd-timeline");

    @TempDir static Path root;
    static Path sweep;

    @BeforeAll
    static void twoTinyRuns() throws Exception {
        Path corpus = Cli.corpus(root);
        sweep = root.resolve("sweep");
        for (String method : new String[] {"adamw", "q-galore"}) {
            Cli.Result r = Cli.run(Cli.withTinyModel(List.of("train", "--out", sweep.resolve(method).toString(),
                    "--set", "data.path=" + corpus, "--set", "optim.method=" + method),
                    "--set", "optim.rank=8", "--set", "optim.refresh_gap=2",
                    "--set", "train.steps=6", "--set", "train.batch_size=4", "--set", "train.warmup=1",
                    "--set", "train.eval_every=2", "--set", "train.eval_batches=1", "--set", "train.log_every=1"));
            assertEquals(0, r.code(), r.err());
        }
    }

    @Test
    void theReportsNumbersAreEachRunsSummary() throws Exception {
        Path file = root.resolve("report/table.md");
        Cli.Result r = Cli.run("report", sweep.toString(), "--out", file.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(r.out(), Files.readString(file), "--out holds what was printed");

        List<List<String>> table = table(r.out());
        List<String> heading = table.get(0);
        assertEquals(2, table.size() - 2, "a row per run:\n" + r.out());
        for (List<String> row : table.subList(2, table.size())) {
            JsonNode s = JSON.readTree(sweep.resolve(row.get(0)).resolve("summary.json").toFile());
            assertEquals(s.get("method").asText(), row.get(1));
            assertEquals(s.get("val_loss").asDouble(), number(heading, row, "val_loss"), 0.5e-4);
            assertEquals(s.get("val_ppl").asDouble(), number(heading, row, "val_ppl"), 0.5e-3);
            // one decimal: at most half its last digit off (a value exactly halfway prints rounded up)
            assertEquals(s.get("tokens_per_s").asDouble(), number(heading, row, "tokens/s"), 0.05 + 1e-9);
            assertEquals(s.get("svd_count").asDouble(), number(heading, row, "SVDs"));
            JsonNode memory = s.get("memory");
            double bytesPerParam = memory.get("persistent_bytes_per_param").asDouble();
            assertEquals(bytesPerParam, number(heading, row, "bytes/param (weights + optimizer)"), 0.5e-3);
            assertEquals(s.get("peak_rss_bytes").asDouble() / (1 << 20), number(heading, row, "peak RSS (MiB)"), 0.05 + 1e-9);
        }
        assertTrue(number(heading, row(table, "q-galore"), "SVDs") > 0);
        assertEquals(0, number(heading, row(table, "adamw"), "SVDs"));
    }

    @Test
    void onlyTheOptionsThatDifferBecomeColumns() throws Exception {
        List<List<String>> table = table(Cli.run("report", sweep.resolve("adamw").toString(),
                sweep.resolve("q-galore").toString()).out());
        List<String> heading = table.get(0);
        List<String> options = heading.subList(2, heading.indexOf("val_loss"));
        assertTrue(options.containsAll(List.of("optim.lr", "optim.weights", "optim.projection", "optim.refresh")), options.toString());
        for (String same : List.of("optim.method", "optim.rank", "optim.refresh_gap", "train.steps", "model.hidden", "data.path")) {
            assertFalse(options.contains(same), same + " is the same in both runs: " + options);
        }
        for (String option : options) {
            int c = heading.indexOf(option);
            assertNotEquals(table.get(2).get(c), table.get(3).get(c), option + " differs");
        }
        int weights = heading.indexOf("optim.weights");
        assertEquals("fp32", row(table, "adamw").get(weights));
        assertEquals("int8", row(table, "q-galore").get(weights));
        assertEquals(".*(self_attn|mlp)\\..*_proj\\.weight", row(table, "q-galore").get(heading.indexOf("optim.projection")),
                "a | inside a value is escaped and survives the table");

        List<String> single = table(Cli.run("report", sweep.resolve("adamw").toString()).out()).get(0);
        assertEquals("val_loss", single.get(2), "one run: no option columns, " + single);
    }

    @Test
    void anUnfinishedRunIsReportedWithDashes(@TempDir Path dir) throws Exception {
        Path unfinished = unfinishedCopy(sweep.resolve("q-galore"), dir.resolve("unfinished"));
        Cli.Result r = Cli.run("report", unfinished.toString());
        assertEquals(0, r.code(), r.err());
        List<String> row = table(r.out()).get(2);
        assertEquals("q-galore", row.get(1), "the method comes from config.yaml");
        assertEquals(List.of("—", "—", "—", "—", "—", "—"), row.subList(2, row.size()));
    }

    @Test
    void plotsOfASweepAreNonBlankImagesAndSkipWhatARunLacks() throws Exception {
        Cli.Result r = Cli.run("plot", sweep.toString());
        assertEquals(0, r.code(), r.err());
        Path plots = sweep.resolve("plots");
        List<String> charts = new ArrayList<>(SWEEP_CHARTS);
        SUBSPACE_CHARTS.forEach(c -> charts.add(c + "-q-galore"));
        for (String chart : charts) {
            assertNonBlankPng(plots.resolve(chart + ".png"));
            assertSvgWithPaths(plots.resolve(chart + ".svg"));
        }
        for (String chart : SUBSPACE_CHARTS) {
            assertFalse(Files.exists(plots.resolve(chart + "-adamw.png")), "adamw has no " + chart);
        }
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("skipped") && l.contains("adamw")
                && l.contains("no subspace.jsonl lines")), r.out());
        assertTrue(r.out().contains(charts.size() + " charts of 2 runs in " + plots), r.out());
    }

    @Test
    void oneRunsPlotsGoToItsPlotsDirectoryAndSeveralRunsToOut(@TempDir Path dir) throws Exception {
        // Unfinished copies (config and metrics only) keep this to the three loss charts.
        Path one = unfinishedCopy(sweep.resolve("adamw"), dir.resolve("one"));
        Path two = unfinishedCopy(sweep.resolve("q-galore"), dir.resolve("two"));
        Cli.Result single = Cli.run("plot", one.toString());
        assertEquals(0, single.code(), single.err());
        assertNonBlankPng(one.resolve("plots/loss-step.png"));
        assertTrue(single.out().contains("skipped memory: no run has a summary.json"), single.out());

        Path out = dir.resolve("comparison");
        Cli.Result both = Cli.run("plot", one.toString(), two.toString(), "--out", out.toString());
        assertEquals(0, both.code(), both.err());
        assertNonBlankPng(out.resolve("loss-tokens.png"));
        assertTrue(both.out().contains("3 charts of 2 runs in " + out), both.out());
    }

    @Test
    void argumentsWithoutARunAreWarningsUnlessNoArgumentHasOne(@TempDir Path dir) throws Exception {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        Path file = Files.writeString(dir.resolve("notes.txt"), "not a run");
        Path missing = dir.resolve("missing");
        Path out = dir.resolve("out");
        for (Path bad : List.of(empty, file, missing)) {
            for (String command : List.of("report", "plot")) {
                // alone: nothing to report, one line, exit code 2, nothing written
                Cli.Result r = Cli.run(command, bad.toString(), "--out", out.toString());
                assertEquals(2, r.code(), command + " " + bad + ": " + r.err());
                String err = r.err().strip();
                assertFalse(err.contains("\n"), "one line: " + err);
                assertTrue(err.startsWith("galore " + command + ": error: ") && err.contains(bad.toString()), err);
                assertEquals("", r.out(), "nothing printed for " + bad);
                assertFalse(Files.exists(out), "nothing written for " + bad);

                // beside a sweep: one warning naming it, and the sweep's runs are reported
                Path to = command.equals("report") ? out.resolve("table.md") : out;
                r = Cli.run(command, sweep.toString(), bad.toString(), "--out", to.toString());
                assertEquals(0, r.code(), command + " " + bad + ": " + r.err());
                assertEquals(List.of("galore " + command + ": warning: " + bad
                        + (bad.equals(missing) ? ": no such directory" : bad.equals(file) ? " is a file, not a run directory"
                                : " is not a run directory (no config.yaml or metrics.jsonl) and holds no runs") + "; skipped"),
                        r.err().lines().toList());
                assertTrue(command.equals("report") ? table(r.out()).size() == 4 : r.out().contains("of 2 runs"), r.out());
                deleteTree(out);
            }
        }
    }

    @Test
    void aDamagedRunOrLineIsOneWarningAndTheRestIsReported(@TempDir Path dir) throws Exception {
        Path runs = dir.resolve("runs");
        Path good = copy(sweep.resolve("q-galore"), runs.resolve("good"));
        Path cut = copy(sweep.resolve("adamw"), runs.resolve("cut"));
        List<String> lines = new ArrayList<>(Files.readAllLines(cut.resolve("metrics.jsonl")));
        int total = lines.size();
        lines.add(2, "{\"step\": 2.5, \"loss\": [");                                // line 3: malformed
        String last = lines.remove(lines.size() - 1);
        Files.writeString(cut.resolve("metrics.jsonl"), String.join("\n", lines) + "\n"
                + last.substring(0, last.length() / 2));                           // the last line cut off
        Files.writeString(cut.resolve("summary.json"), "{\"method\": \"adamw\", \"val_loss\": 3.");
        Path noConfig = copy(sweep.resolve("adamw"), runs.resolve("no-config"));
        Files.delete(noConfig.resolve("config.yaml"));
        Path badYaml = copy(sweep.resolve("adamw"), runs.resolve("bad-yaml"));
        Files.writeString(badYaml.resolve("config.yaml"), "model: [hidden\n");
        Path nothing = Files.createDirectories(runs.resolve("nothing"));
        Files.writeString(nothing.resolve("metrics.jsonl"), "\u0000\u0001garbage\n");
        Path empty = Files.createDirectories(dir.resolve("empty"));

        List<String> expected = List.of(
                empty + " is not a run directory (no config.yaml or metrics.jsonl) and holds no runs; skipped",
                badYaml.resolve("config.yaml") + " is corrupt (",
                cut.resolve("metrics.jsonl") + " line 3 is not JSON (cut off?): skipped",
                cut.resolve("metrics.jsonl") + " line " + (total + 1) + " is not JSON (cut off?): skipped",
                cut.resolve("summary.json") + " is corrupt (",
                noConfig.resolve("config.yaml") + " is missing; its settings are not shown",
                nothing.resolve("config.yaml") + " is missing",
                nothing.resolve("metrics.jsonl") + " line 1 is not JSON (cut off?): skipped",
                nothing + ": nothing of the run could be read; skipped");
        for (String command : List.of("report", "plot")) {
            Cli.Result r = Cli.run(command, runs.toString(), empty.toString());
            assertEquals(0, r.code(), r.err());
            List<String> err = r.err().lines().toList();
            for (String line : err) {
                assertTrue(line.startsWith("galore " + command + ": warning: "), line);
            }
            for (String warning : expected) {
                assertEquals(1, err.stream().filter(l -> l.contains(warning)).count(), warning + " in\n" + r.err());
            }
            if (command.equals("report")) {
                List<List<String>> table = table(r.out());
                assertEquals(List.of("bad-yaml", "cut", "good", "no-config"), table.subList(2, table.size()).stream()
                        .map(row -> row.get(0)).toList(), r.out());
                assertEquals("q-galore", row(table, "good").get(1));
                assertEquals("adamw", row(table, "no-config").get(1), "the method from summary.json");
            } else {
                assertTrue(r.out().contains("of 4 runs in " + runs.resolve("plots")), r.out());
                assertNonBlankPng(runs.resolve("plots/loss-step.png"));
            }
        }
        // only damaged runs: exit code 2 and one line
        Cli.Result r = Cli.run("report", nothing.toString());
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("galore report: error: no usable run: " + nothing.resolve("config.yaml")), r.err());
    }

    @Test
    void aRunWrittenByAnOlderOrNewerVersionIsReportedWithWhatItHas(@TempDir Path dir) throws Exception {
        Path run = copy(sweep.resolve("adamw"), dir.resolve("other-version"));
        com.fasterxml.jackson.databind.node.ObjectNode summary =
                (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(run.resolve("summary.json").toFile());
        summary.remove("svd_count"); // a field an older version did not write
        summary.putObject("added_later").put("x", 1); // and one a newer version writes
        Files.writeString(run.resolve("summary.json"), summary.toString());
        List<String> lines = new ArrayList<>(Files.readAllLines(run.resolve("metrics.jsonl")));
        lines.set(0, lines.get(0).replace("{\"step\":1,", "{\"step\":1,\"added_later\":[1,2],"));
        lines.add("{\"step\": 99, \"loss\": \"not a number\"}");
        Files.write(run.resolve("metrics.jsonl"), lines);

        Cli.Result r = Cli.run("report", run.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains(run.resolve("metrics.jsonl") + " line " + lines.size()
                + " has a field of the wrong type"), r.err());
        List<String> row = table(r.out()).get(2);
        assertEquals(String.format(java.util.Locale.ROOT, "%.4f", summary.get("val_loss").asDouble()), row.get(2));
        assertEquals("—", row.get(5), "no svd_count: " + row);
        Cli.Result plot = Cli.run("plot", run.toString());
        assertEquals(0, plot.code(), plot.err());
        assertNonBlankPng(run.resolve("plots/loss-step.png"));
    }

    private static Path copy(Path run, Path to) throws Exception {
        Files.createDirectories(to);
        for (String f : new String[] {"config.yaml", "metrics.jsonl", "subspace.jsonl", "summary.json"}) {
            if (Files.exists(run.resolve(f))) {
                Files.copy(run.resolve(f), to.resolve(f));
            }
        }
        return to;
    }

    private static void deleteTree(Path dir) throws Exception {
        if (Files.exists(dir)) {
            try (var all = Files.walk(dir)) {
                for (Path p : (Iterable<Path>) all.sorted(java.util.Comparator.reverseOrder())::iterator) {
                    Files.delete(p);
                }
            }
        }
    }

    /** A copy of {@code run}'s config.yaml and metrics.jsonl: a run that has not finished. */
    private static Path unfinishedCopy(Path run, Path to) throws Exception {
        Files.createDirectories(to);
        for (String f : new String[] {"config.yaml", "metrics.jsonl"}) {
            Files.copy(run.resolve(f), to.resolve(f));
        }
        return to;
    }

    /** The cells of a Markdown table, row by row (heading, separator, runs), with \| and \\ unescaped. */
    private static List<List<String>> table(String markdown) {
        List<List<String>> rows = new ArrayList<>();
        for (String line : markdown.strip().split("\n")) {
            List<String> cells = new ArrayList<>();
            StringBuilder cell = new StringBuilder();
            for (int i = 1; i < line.length(); i++) {
                char c = line.charAt(i);
                if (c == '\\') {
                    cell.append(line.charAt(++i));
                } else if (c == '|') {
                    cells.add(cell.toString().strip());
                    cell.setLength(0);
                } else {
                    cell.append(c);
                }
            }
            rows.add(cells);
        }
        return rows;
    }

    private static List<String> row(List<List<String>> table, String run) {
        return table.stream().filter(r -> r.get(0).equals(run)).findFirst().orElseThrow();
    }

    private static double number(List<String> heading, List<String> row, String column) {
        int c = heading.indexOf(column);
        assertTrue(c >= 0, "column " + column + " in " + heading);
        return Double.parseDouble(row.get(c));
    }

    /**
     * A PNG that decodes, and is not blank: at least 3% of its pixels differ from the corner's
     * background colour and it has more than 8 colours (lines, text, legend markers).
     */
    private static void assertNonBlankPng(Path png) throws Exception {
        BufferedImage image = ImageIO.read(png.toFile());
        assertNotNull(image, png + " decodes");
        assertTrue(image.getWidth() > 0 && image.getHeight() > 0);
        int background = image.getRGB(0, 0);
        long drawn = 0;
        Set<Integer> colours = new HashSet<>();
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                int rgb = image.getRGB(x, y);
                colours.add(rgb);
                if (rgb != background) {
                    drawn++;
                }
            }
        }
        double share = drawn / (double) (image.getWidth() * image.getHeight());
        assertTrue(share >= 0.03, png.getFileName() + ": only " + share + " of the pixels drawn");
        assertTrue(colours.size() > 8, png.getFileName() + ": " + colours.size() + " colours");
    }

    /** An SVG document that parses as XML, with an svg root and path elements (the drawn chart). */
    private static void assertSvgWithPaths(Path svg) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        factory.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        Document doc = factory.newDocumentBuilder().parse(svg.toFile());
        assertEquals("svg", doc.getDocumentElement().getLocalName(), svg.getFileName().toString());
        assertTrue(doc.getElementsByTagNameNS("*", "path").getLength() > 0, svg.getFileName() + " has paths");
    }
}
