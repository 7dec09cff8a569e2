package io.galore4j.experiments;

import java.awt.Color;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.AxesChartStyler;
import org.knowm.xchart.style.Styler;

/**
 * The look every plot shares: a white background, a title, axis titles and a legend that moves
 * outside the plot (and makes the image taller) when there are many series, such as one per layer.
 */
final class Charts {

    private static final int WIDTH = 960;
    private static final int HEIGHT = 560;
    /** Beyond this many series the legend goes to the right of the plot, one line per series. */
    private static final int INSIDE_LEGEND_MAX = 6;
    private static final int LEGEND_LINE_PX = 22;

    private Charts() {
    }

    /** A line chart for {@code series} series. */
    static XYChart xy(String title, String xTitle, String yTitle, int series) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(height(series))
                .title(title).xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        style(chart.getStyler(), series);
        chart.getStyler().setMarkerSize(5);
        return chart;
    }

    /** A bar chart for {@code series} series. */
    static CategoryChart bars(String title, String xTitle, String yTitle, int series) {
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(height(series))
                .title(title).xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        style(chart.getStyler(), series);
        // Bars fill the plot up to its top, so their legend goes beside it.
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        return chart;
    }

    /** A layer's name without the parts every layer shares: {@code model.layers.3.mlp.down_proj.weight} → {@code 3.mlp.down_proj}. */
    static String shortLayer(String layer) {
        String s = layer.startsWith("model.layers.") ? layer.substring("model.layers.".length()) : layer;
        return s.endsWith(".weight") ? s.substring(0, s.length() - ".weight".length()) : s;
    }

    private static int height(int series) {
        return series <= INSIDE_LEGEND_MAX ? HEIGHT : Math.max(HEIGHT, 100 + LEGEND_LINE_PX * series);
    }

    private static void style(AxesChartStyler styler, int series) {
        styler.setChartBackgroundColor(Color.WHITE);
        styler.setPlotBackgroundColor(Color.WHITE);
        styler.setPlotGridLinesColor(new Color(225, 225, 225));
        styler.setLegendVisible(true);
        styler.setLegendPosition(series <= INSIDE_LEGEND_MAX ? Styler.LegendPosition.InsideNE : Styler.LegendPosition.OutsideE);
    }
}
