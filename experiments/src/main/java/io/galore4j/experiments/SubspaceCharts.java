package io.galore4j.experiments;

import io.galore4j.trainer.run.SubspaceLine;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;

/**
 * The charts of one run's subspaces, from its {@code subspace.jsonl}: per layer, the overlap and
 * |cos| at each refresh, the refresh gap over time, the energy the rank-r basis captures, and the
 * timeline of SVD events. A run without refreshes (full-rank methods) gets none of them.
 */
final class SubspaceCharts {

    private static final Pattern BLOCK = Pattern.compile("^model\\.layers\\.(\\d+)\\.");

    /** Layers by transformer block, then by name: the order of the model, not of the backward pass. */
    private static final Comparator<String> MODEL_ORDER =
            Comparator.comparingInt(SubspaceCharts::block).thenComparing(Comparator.naturalOrder());

    private SubspaceCharts() {
    }

    /** Writes the subspace charts of {@code run}, their file names ending in {@code suffix}. */
    static void write(Run run, String suffix, PlotWriter plots) throws IOException {
        if (run.refreshes().isEmpty()) {
            plots.skip("overlap, cosine, gap, energy and svd-timeline for " + run.label(),
                    "no subspace.jsonl lines (method " + run.method() + " refreshes no basis)");
            return;
        }
        Map<String, List<SubspaceLine>> byLayer = byLayer(run.refreshes());
        perLayer(run, "overlap" + suffix, "subspace overlap at each refresh", "overlap ||P_old^T P_new||²_F / r",
                SubspaceLine::overlap, byLayer, plots);
        perLayer(run, "cosine" + suffix, "|cos| of the first singular vectors at each refresh", "|cos(u_old, u_new)|",
                r -> r.cosine() == null ? null : Math.abs(r.cosine()), byLayer, plots);
        gaps(run, "gap" + suffix, byLayer, plots);
        energy(run, "energy" + suffix, byLayer, plots);
        timeline(run, "svd-timeline" + suffix, byLayer, plots);
    }

    /** One series per layer of a statistic that is null at a layer's first refresh. */
    private static void perLayer(Run run, String name, String title, String yTitle,
            Function<SubspaceLine, Double> statistic, Map<String, List<SubspaceLine>> byLayer, PlotWriter plots)
            throws IOException {
        Map<String, List<SubspaceLine>> measured = new LinkedHashMap<>();
        byLayer.forEach((layer, refreshes) -> {
            List<SubspaceLine> with = refreshes.stream().filter(r -> statistic.apply(r) != null).toList();
            if (!with.isEmpty()) {
                measured.put(layer, with);
            }
        });
        if (measured.isEmpty()) {
            plots.skip(name, run.label() + ": no refresh had a previous basis to compare with (each layer refreshed"
                    + " once, or APOLLO's random projections)");
            return;
        }
        XYChart chart = Charts.xy(run.label() + ": " + title, "step", yTitle, measured.size());
        measured.forEach((layer, refreshes) -> chart.addSeries(Charts.shortLayer(layer),
                refreshes.stream().mapToDouble(SubspaceLine::step).toArray(),
                refreshes.stream().mapToDouble(r -> statistic.apply(r)).toArray()));
        plots.write(name, chart);
    }

    /** Each layer's gap as a step line from refresh to refresh, held to the run's last step. */
    private static void gaps(Run run, String name, Map<String, List<SubspaceLine>> byLayer, PlotWriter plots)
            throws IOException {
        XYChart chart = Charts.xy(run.label() + ": refresh gap of each layer", "step", "gap (steps to the next SVD)",
                byLayer.size());
        long end = run.lastStep();
        byLayer.forEach((layer, refreshes) -> {
            List<Double> steps = new ArrayList<>();
            List<Double> gaps = new ArrayList<>();
            refreshes.forEach(r -> {
                steps.add((double) r.step());
                gaps.add((double) r.gap());
            });
            if (end > refreshes.get(refreshes.size() - 1).step()) {
                steps.add((double) end);
                gaps.add(gaps.get(gaps.size() - 1));
            }
            chart.addSeries(Charts.shortLayer(layer), steps, gaps).setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Step);
        });
        plots.write(name, chart);
    }

    /**
     * Bars per layer of the energy its basis captured, at the first and (if later) the last
     * refresh; the rank is in the title when every layer has the same, else in each layer's label.
     */
    private static void energy(Run run, String name, Map<String, List<SubspaceLine>> byLayer, PlotWriter plots)
            throws IOException {
        boolean refreshedAgain = byLayer.values().stream().anyMatch(r -> r.size() > 1);
        List<Integer> ranks = byLayer.values().stream().map(r -> r.get(r.size() - 1).rank()).toList();
        boolean oneRank = ranks.stream().distinct().count() == 1;
        CategoryChart chart = Charts.bars(run.label() + ": energy captured by the rank-"
                + (oneRank ? ranks.get(0) : "r") + " basis", "layer", "energy (share of ||G||²_F in the basis)",
                refreshedAgain ? 2 : 1);
        List<String> layers = new ArrayList<>();
        int i = 0;
        for (String layer : byLayer.keySet()) {
            layers.add(Charts.shortLayer(layer) + (oneRank ? "" : " (r=" + ranks.get(i) + ")"));
            i++;
        }
        chart.addSeries("first refresh", layers,
                byLayer.values().stream().map(r -> r.get(0).energy()).toList());
        if (refreshedAgain) {
            chart.addSeries("last refresh", layers,
                    byLayer.values().stream().map(r -> r.get(r.size() - 1).energy()).toList());
        }
        chart.getStyler().setYAxisMin(0.0).setYAxisMax(1.0).setXAxisLabelRotation(90);
        plots.write(name, chart);
    }

    /**
     * A point per SVD at (step, layer index), one series per kind of weight (self_attn.q_proj,
     * mlp.down_proj, ...); layer index i is the i-th layer by block, then by name.
     */
    private static void timeline(Run run, String name, Map<String, List<SubspaceLine>> byLayer, PlotWriter plots)
            throws IOException {
        List<String> layers = List.copyOf(byLayer.keySet());
        Map<String, List<double[]>> byKind = new LinkedHashMap<>();
        for (int i = 0; i < layers.size(); i++) {
            for (SubspaceLine r : byLayer.get(layers.get(i))) {
                byKind.computeIfAbsent(kind(layers.get(i)), k -> new ArrayList<>()).add(new double[] {r.step(), i});
            }
        }
        XYChart chart = Charts.xy(run.label() + ": SVD events (" + run.refreshes().size() + ")", "step",
                "layer index (by block, then weight)", byKind.size());
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        byKind.forEach((kind, points) -> chart.addSeries(kind,
                points.stream().mapToDouble(p -> p[0]).toArray(), points.stream().mapToDouble(p -> p[1]).toArray()));
        plots.write(name, chart);
    }

    private static Map<String, List<SubspaceLine>> byLayer(List<SubspaceLine> refreshes) {
        Map<String, List<SubspaceLine>> byLayer = new TreeMap<>(MODEL_ORDER);
        refreshes.forEach(r -> byLayer.computeIfAbsent(r.layer(), k -> new ArrayList<>()).add(r));
        return byLayer;
    }

    /** The transformer block of a layer's name; names outside the blocks sort last. */
    private static int block(String layer) {
        Matcher m = BLOCK.matcher(layer);
        return m.find() ? Integer.parseInt(m.group(1)) : Integer.MAX_VALUE;
    }

    /** A layer's name without its block: {@code model.layers.3.mlp.down_proj.weight} → {@code mlp.down_proj}. */
    private static String kind(String layer) {
        return Charts.shortLayer(BLOCK.matcher(layer).replaceFirst(""));
    }
}
