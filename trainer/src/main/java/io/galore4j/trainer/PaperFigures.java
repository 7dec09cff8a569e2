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
 * The GaLore, Q-GaLore and APOLLO papers' published memory figures next to this project's estimate made
 * under the papers' own assumptions ({@code galore memory --papers}).
 *
 * <p>Both papers count weights and optimizer states only (no gradients, no activations, no
 * runtime), in decimal gigabytes: GaLore Table 2 and Appendix Table 6 (Zhao et al. 2024,
 * arXiv 2403.03507v2; full-rank and GaLore in BF16, Adam's two moments included, GaLore's
 * projection matrices counted with the states), GaLore Table 3 (7B: 8-bit Adam and 8-bit GaLore,
 * rank 1024), Q-GaLore Table 1 and Table 2 (Zhang et al. 2024, arXiv 2407.08296v1; INT8 weights,
 * 8-bit Adam states, INT4 projections in groups of 256). Ranks are the papers': 128, 256, 256,
 * 512 for 60M to 1B, 1024 for 7B. The APOLLO paper's 7B pre-training table (Zhu et al. 2024,
 * arXiv 2412.05270) gives the optimizer memory alone: 8-bit Adam, 8-bit GaLore at rank 1024,
 * APOLLO at rank 256 and APOLLO-Mini at rank 1, the last two priced in BF16 as GaLore's rows. Its
 * figures count the states of the projected matrices only (APOLLO-Mini's 0.0G leaves no room for
 * the embedding's and head's Adam states), so these rows do too, except 8-bit Adam's, which
 * projects nothing.
 *
 * <p>The estimate takes the element counts of this project's optimizer account for the same
 * model shapes and rank and prices them as the paper does: BF16 (2 bytes) for every weight,
 * state and projection element of the BF16 methods; for the 8-bit methods the states as this
 * project stores them (dynamic8 codes plus their scales); for Q-GaLore every stored component as
 * this project stores it (INT8 weight codes with scales and zero points, for every weight, as the
 * paper counts them, dynamic8 states with scales, INT4 bases with scales and zero points).
 */
public final class PaperFigures {

    /**
     * One published figure: model preset, rank, method label, the paper's GB, where it is from, and
     * whether it counts the optimizer states alone (the APOLLO paper's 7B table) or weights too.
     */
    public record Published(String preset, int rank, String method, double gigabytes, String source, boolean statesOnly) {
        Published(String preset, int rank, String method, double gigabytes, String source) {
            this(preset, rank, method, gigabytes, source, false);
        }
    }

    /**
     * One row of the comparison: the published figure and this project's estimate in bytes, split
     * into weights and optimizer states (projection bases included).
     */
    public record Row(Published published, long weightBytes, long stateBytes) {
        public long estimateBytes() {
            return published.statesOnly() ? stateBytes : weightBytes + stateBytes;
        }

        public double estimateGigabytes() {
            return estimateBytes() / 1e9;
        }

        /** Estimate over the published figure; NaN for a figure published as 0.0G. */
        public double ratio() {
            return published.gigabytes() == 0 ? Double.NaN : estimateGigabytes() / published.gigabytes();
        }
    }

    static final String FULL = "full-rank (bf16)";
    static final String GALORE = "galore (bf16)";
    static final String ADAM8 = "8-bit adam";
    static final String GALORE8 = "8-bit galore";
    static final String Q_GALORE = "q-galore";
    static final String APOLLO = "apollo (bf16)";
    static final String APOLLO_MINI = "apollo-mini (bf16)";
    private static final String APOLLO_7B = "APOLLO 7B table, states only";

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
            new Published("7b", 1024, Q_GALORE, 15, "Q-GaLore Table 2"),
            new Published("7b", 1024, ADAM8, 13, APOLLO_7B, true),
            new Published("7b", 1024, GALORE8, 4.9, APOLLO_7B, true),
            new Published("7b", 256, APOLLO, 1.6, APOLLO_7B, true),
            new Published("7b", 1, APOLLO_MINI, 0.0, APOLLO_7B, true));

    private PaperFigures() {
    }

    /** Every published figure with this project's estimate under the same assumptions. */
    public static List<Row> compare() {
        List<Row> rows = new ArrayList<>();
        for (Published p : PUBLISHED) {
            long[] e = estimate(p.preset(), p.rank(), p.method(), p.statesOnly());
            rows.add(new Row(p, e[0], e[1]));
        }
        return rows;
    }

    static long[] estimate(String preset, int rank, String method) {
        return estimate(preset, rank, method, false);
    }

    /**
     * {weights, optimizer states with projection bases} of {@code method} at this size and rank,
     * priced as the papers do; with {@code projectedOnly} (the APOLLO table's count) the states
     * are those of the projected matrices alone, when the method projects any.
     */
    static long[] estimate(String preset, int rank, String method, boolean projectedOnly) {
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
            case APOLLO -> section.put("method", "apollo");
            case APOLLO_MINI -> section.put("method", "apollo-mini");
            case Q_GALORE -> {
                // the paper's figures price every weight at one byte (its GaLore rows with the
                // weights at 1 byte), the embedding and head included, which the preset keeps fp32
                section.put("method", "q-galore");
                section.put("weights_scope", "all");
            }
            default -> throw new IllegalArgumentException("unknown method " + method);
        }
        OptimSettings settings = OptimSettings.from(section);
        MemoryAccount a = MemoryAccount.estimate(settings, shapes, false);
        long params = a.elements();
        long states = 0;
        long basis = 0;
        boolean projects = shapes.entrySet().stream().anyMatch(e -> settings.resolve(e.getKey(), e.getValue()).galore());
        for (MemoryAccount.Row r : a.rows()) {
            if (projectedOnly && projects && !settings.resolve(r.name(), shapes.get(r.name())).galore()) {
                continue;
            }
            states += r.get(Component.M) + r.get(Component.M_SCALES) + r.get(Component.V) + r.get(Component.V_SCALES);
            basis += r.get(Component.BASIS);
        }
        return switch (method) {
            // fp32 in this project's account: 4 bytes per element, priced at 2
            case FULL, GALORE, APOLLO, APOLLO_MINI -> new long[] {2 * params, states / 2 + basis / 2};
            case ADAM8 -> new long[] {2 * params, states};
            case GALORE8 -> new long[] {2 * params, states + basis / 2};
            default -> new long[] {a.total(Component.WEIGHT) + a.total(Component.WEIGHT_SCALES), states + basis};
        };
    }

    /** The comparison as a fixed-width table, decimal GB as in the papers. */
    public static String table(List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        sb.append("weights + optimizer states (projection included), decimal GB, the papers' assumptions"
                + " (no gradients, activations or runtime); rows marked \"states only\" compare optimizer states alone,\n"
                + "those of the projected matrices where the method projects any, as that table counts them\n");
        sb.append(String.format("%-6s %6s %-18s %8s %10s %7s %9s %9s  %s%n", "model", "rank", "method", "paper",
                "estimate", "ratio", "weights", "states", "source"));
        for (Row r : rows) {
            Published p = r.published();
            String ratio = Double.isNaN(r.ratio()) ? "—" : String.format("%.3f", r.ratio());
            sb.append(String.format("%-6s %6d %-18s %7.2fG %9.2fG %7s %8.3fG %8.3fG  %s%n", p.preset(), p.rank(),
                    p.method(), p.gigabytes(), r.estimateGigabytes(), ratio, r.weightBytes() / 1e9,
                    r.stateBytes() / 1e9, p.source()));
        }
        return sb.toString();
    }
}
