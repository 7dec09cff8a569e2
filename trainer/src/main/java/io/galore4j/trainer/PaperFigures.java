package io.galore4j.trainer;

import io.galore4j.galore.MemoryAccount;
import io.galore4j.galore.MemoryAccount.Component;
import io.galore4j.galore.OptimSettings;
import io.galore4j.trainer.model.LlamaParameters;
import io.galore4j.trainer.model.ModelConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The GaLore and Q-GaLore papers' published memory figures next to this project's estimate made
 * under the papers' own assumptions ({@code galore memory --papers}).
 *
 * <p>Both papers count weights and optimizer states only (no gradients, no activations, no
 * runtime), in decimal gigabytes: GaLore Table 2 and Appendix Table 6 (Zhao et al. 2024,
 * arXiv 2403.03507v2; full-rank and GaLore in BF16, Adam's two moments included, GaLore's
 * projection matrices counted with the states), GaLore Table 3 (7B: 8-bit Adam and 8-bit GaLore,
 * rank 1024), Q-GaLore Table 1 and Table 2 (Zhang et al. 2024, arXiv 2407.08296v1; INT8 weights,
 * 8-bit Adam states, INT4 projections in groups of 256). Ranks are the papers': 128, 256, 256,
 * 512 for 60M to 1B, 1024 for 7B.
 *
 * <p>The estimate takes the element counts of this project's optimizer account for the same
 * model shapes and rank and prices them as the paper does: BF16 (2 bytes) for every weight,
 * state and projection element of the BF16 methods; for the 8-bit methods the states as this
 * project stores them (dynamic8 codes plus their scales); for Q-GaLore every stored component as
 * this project stores it (INT8 weight codes with scales and zero points, for every weight, as the
 * paper counts them, dynamic8 states with scales, INT4 bases with scales and zero points).
 */
public final class PaperFigures {

    /** One published figure: model preset, rank, method label, the paper's GB, and where it is from. */
    public record Published(String preset, int rank, String method, double gigabytes, String source) {
    }

    /**
     * One row of the comparison: the published figure and this project's estimate in bytes, split
     * into weights and optimizer states (projection bases included).
     */
    public record Row(Published published, long weightBytes, long stateBytes) {
        public long estimateBytes() {
            return weightBytes + stateBytes;
        }

        public double estimateGigabytes() {
            return estimateBytes() / 1e9;
        }

        public double ratio() {
            return estimateGigabytes() / published.gigabytes();
        }
    }

    static final String FULL = "full-rank (bf16)";
    static final String GALORE = "galore (bf16)";
    static final String ADAM8 = "8-bit adam";
    static final String GALORE8 = "8-bit galore";
    static final String Q_GALORE = "q-galore";

    /** The published figures, as printed in the papers' tables. */
    public static final List<Published> PUBLISHED = List.of(
            new Published("60m", 128, FULL, 0.36, "GaLore Table 2"),
            new Published("60m", 128, GALORE, 0.24, "GaLore Table 2"),
            new Published("60m", 128, Q_GALORE, 0.18, "Q-GaLore Table 1"),
            new Published("130m", 256, FULL, 0.76, "GaLore Table 2"),
            new Published("130m", 256, GALORE, 0.52, "GaLore Table 2"),
            new Published("130m", 256, Q_GALORE, 0.39, "Q-GaLore Table 1"),
            new Published("350m", 256, FULL, 2.06, "GaLore Table 2"),
            new Published("350m", 256, GALORE, 1.22, "GaLore Table 2"),
            new Published("350m", 256, Q_GALORE, 0.88, "Q-GaLore Table 1"),
            new Published("1b", 512, FULL, 7.80, "GaLore Table 2"),
            new Published("1b", 512, GALORE, 4.38, "GaLore Table 2"),
            new Published("1b", 512, Q_GALORE, 3.08, "Q-GaLore Table 1"),
            new Published("7b", 1024, ADAM8, 26, "GaLore Table 3"),
            new Published("7b", 1024, GALORE8, 18, "GaLore Table 3"),
            new Published("7b", 1024, Q_GALORE, 15, "Q-GaLore Table 2"));

    private PaperFigures() {
    }

    /** Every published figure with this project's estimate under the same assumptions. */
    public static List<Row> compare() {
        List<Row> rows = new ArrayList<>();
        for (Published p : PUBLISHED) {
            long[] e = estimate(p.preset(), p.rank(), p.method());
            rows.add(new Row(p, e[0], e[1]));
        }
        return rows;
    }

    /**
     * {weights, optimizer states with projection bases} of {@code method} at this size and rank,
     * priced as the papers do.
     */
    static long[] estimate(String preset, int rank, String method) {
        Map<String, long[]> shapes = LlamaParameters.shapes(ModelConfig.preset(preset));
        Map<String, Object> section = new LinkedHashMap<>();
        section.put("rank", rank);
        switch (method) {
            case FULL -> section.put("method", "adamw");
            case GALORE -> section.put("method", "galore");
            case ADAM8 -> section.put("method", "adamw8bit");
            case GALORE8 -> {
                section.put("method", "galore");
                section.put("m_codec", "dynamic8");
                section.put("v_codec", "dynamic8");
            }
            case Q_GALORE -> {
                // the paper's figures price every weight at one byte (its GaLore rows with the
                // weights at 1 byte), the embedding and head included, which the preset keeps fp32
                section.put("method", "q-galore");
                section.put("weights_scope", "all");
            }
            default -> throw new IllegalArgumentException("unknown method " + method);
        }
        MemoryAccount a = MemoryAccount.estimate(OptimSettings.from(section), shapes, false);
        long params = a.elements();
        long states = a.total(Component.M) + a.total(Component.M_SCALES) + a.total(Component.V)
                + a.total(Component.V_SCALES);
        long basis = a.total(Component.BASIS);
        return switch (method) {
            // fp32 in this project's account: 4 bytes per element, priced at 2
            case FULL, GALORE -> new long[] {2 * params, states / 2 + basis / 2};
            case ADAM8 -> new long[] {2 * params, states};
            case GALORE8 -> new long[] {2 * params, states + basis / 2};
            default -> new long[] {a.total(Component.WEIGHT) + a.total(Component.WEIGHT_SCALES), states + basis};
        };
    }

    /** The comparison as a fixed-width table, decimal GB as in the papers. */
    public static String table(List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        sb.append("weights + optimizer states (projection included), decimal GB, the papers' assumptions"
                + " (no gradients, activations or runtime)\n");
        sb.append(String.format("%-6s %6s %-18s %8s %10s %7s %9s %9s  %s%n", "model", "rank", "method", "paper",
                "estimate", "ratio", "weights", "states", "source"));
        for (Row r : rows) {
            Published p = r.published();
            sb.append(String.format("%-6s %6d %-18s %7.2fG %9.2fG %7.3f %8.3fG %8.3fG  %s%n", p.preset(), p.rank(),
                    p.method(), p.gigabytes(), r.estimateGigabytes(), r.ratio(), r.weightBytes() / 1e9,
                    r.stateBytes() / 1e9, p.source()));
        }
        return sb.toString();
    }
}
