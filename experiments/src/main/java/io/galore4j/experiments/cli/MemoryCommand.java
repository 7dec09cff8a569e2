package io.galore4j.experiments.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.galore4j.galore.OptimSettings;
import io.galore4j.trainer.ExchangeBytes;
import io.galore4j.trainer.MemoryEstimate;
import io.galore4j.trainer.PaperFigures;
import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.model.ModelConfig;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code galore memory}: the bytes a training run would need, by component, without running it. */
@Command(
        name = "memory",
        header = "Estimate the memory of a training run, by component.",
        mixinStandardHelpOptions = true,
        description = {
            "Estimate the memory of a training run by component (weights, gradients, each optimizer moment, "
                    + "projection bases, basis refresh, activations, data, runtime), for one method or all side by side."
        })
public final class MemoryCommand implements Callable<Integer> {
    /** Width of a method's column in the memory table (q-apollo-mini fits) and in the exchange table. */
    private static final int METHOD_COLUMN = 14;
    private static final int EXCHANGE_COLUMN = 16;

    @Option(names = "--model", paramLabel = "PRESET_OR_CONFIG",
            description = "a model preset (micro, 60m, 130m, 350m, 1b, 7b) or a YAML config file (required unless --papers)")
    String model;

    @Option(names = "--papers", description = "print the GaLore, Q-GaLore and APOLLO papers' published memory figures "
            + "(60M to 7B) next to this estimator's, under the papers' assumptions: weights and optimizer states only")
    boolean papers;

    @Mixin Overrides overrides;

    @Option(names = "--method", paramLabel = "METHOD", defaultValue = "q-galore",
            description = "optimizer method, or 'all' for every method side by side (default: ${DEFAULT-VALUE})")
    String method;

    @Option(names = "--batch", paramLabel = "N", description = "sequences per batch (default: train.batch_size)")
    Integer batch;

    @Option(names = "--seq", paramLabel = "N", description = "tokens per sequence (default: model.seq_len)")
    Integer seq;

    @Option(names = "--json", description = "print JSON (one object per method, each with total_bytes)")
    boolean json;

    @Option(names = "--exchange", description = "also print what one data-parallel step exchanges per worker: "
            + "full gradients vs projected gradients plus amortized basis refreshes, and the saving")
    boolean exchange;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (papers && exchange) {
            throw new IllegalArgumentException("--exchange applies to a --model estimate, not to --papers");
        }
        if (papers) {
            out.print(PaperFigures.table(PaperFigures.compare()));
            out.flush();
            return 0;
        }
        if (model == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "Missing required option: '--model=PRESET_OR_CONFIG'");
        }
        ConfigTree tree = ConfigTree.defaults();
        Path file = Path.of(model);
        if (model.endsWith(".yaml") || model.endsWith(".yml") || Files.isRegularFile(file)) {
            tree = tree.merge(file);
        } else {
            tree = tree.set("model.preset=" + model);
        }
        tree = tree.with(null, overrides.sets);
        List<String> methods = method.equals("all") ? new ArrayList<>(OptimSettings.methods()) : List.of(method);
        List<MemoryEstimate> estimates = new ArrayList<>();
        List<ExchangeBytes> exchanges = new ArrayList<>();
        List<Map<String, Object>> maps = new ArrayList<>();
        for (String m : methods) {
            ConfigTree t = tree.set("optim.method=" + m);
            estimates.add(MemoryEstimate.of(t, batch, seq));
            maps.add(estimates.get(estimates.size() - 1).toMap());
            if (exchange) {
                exchanges.add(ExchangeBytes.of(t));
                maps.get(maps.size() - 1).put("exchange", exchanges.get(exchanges.size() - 1).toMap());
            }
        }
        if (json) {
            ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            out.println(mapper.writeValueAsString(maps.size() == 1 ? maps.get(0) : maps));
        } else {
            out.print(table(estimates));
            if (exchange) {
                out.print(exchangeTable(exchanges));
            }
        }
        out.flush();
        return 0;
    }

    /** A fixed-width table: one row per component, one column per method, sizes in MiB or GiB. */
    static String table(List<MemoryEstimate> estimates) {
        MemoryEstimate first = estimates.get(0);
        ModelConfig m = first.model();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("model: hidden %d, %d layers, %d heads, intermediate %d, vocab %d (%,d parameters);"
                        + " batch %d × seq %d; activation checkpointing %s%n", m.hidden(), m.layers(), m.heads(),
                m.intermediate(), m.vocab(), m.parameterCount(), first.batch(), first.seq(),
                first.checkpointed() ? "on" : "off (--set model.checkpoint_activations=true to turn on)"));
        row(sb, "component", estimates, METHOD_COLUMN, MemoryEstimate::method);
        for (String c : first.components().keySet()) {
            if (c.equals("exchange_buffers") && estimates.stream().allMatch(e -> e.components().get(c) == 0)) {
                continue; // a single process exchanges nothing: its table stays as it was
            }
            row(sb, c, estimates, METHOD_COLUMN, e -> size(e.components().get(c)));
        }
        row(sb, "total", estimates, METHOD_COLUMN, e -> size(e.totalBytes()));
        sb.append('\n');
        row(sb, "activations, checkpointed", estimates, METHOD_COLUMN, e -> size(e.activationsCheckpointed()));
        row(sb, "activations, not checkpointed", estimates, METHOD_COLUMN, e -> size(e.activationsFull()));
        row(sb, "bytes/param (weights + optimizer)", estimates, METHOD_COLUMN,
                e -> String.format("%.3f", e.persistentBytesPerParameter()));
        if (estimates.stream().anyMatch(e -> e.accumulationBytesPerParameter() > 0)) {
            row(sb, "  + accumulated gradients", estimates, METHOD_COLUMN,
                    e -> String.format("%.3f", e.persistentBytesPerParameter() + e.accumulationBytesPerParameter()));
        }
        return sb.toString();
    }

    /** One column per method: floats and bytes one data-parallel step exchanges per worker, and the saving. */
    static String exchangeTable(List<ExchangeBytes> exchanges) {
        StringBuilder sb = new StringBuilder(String.format("%ndata-parallel exchange per step and worker (fp32 gradients;"
                + " a refresh sums the layer's full gradient and broadcasts its new basis as stored)%n"));
        row(sb, "exchange", exchanges, EXCHANGE_COLUMN, ExchangeBytes::method);
        row(sb, "full gradients, floats", exchanges, EXCHANGE_COLUMN, x -> String.format("%,d", x.fullFloats()));
        row(sb, "full gradients", exchanges, EXCHANGE_COLUMN, x -> fine(x.fullBytes()));
        row(sb, "low-rank gradients, floats", exchanges, EXCHANGE_COLUMN, x -> String.format("%,d", x.stepFloats()));
        row(sb, "low-rank gradients", exchanges, EXCHANGE_COLUMN, x -> fine(x.stepBytes()));
        row(sb, "projected layers", exchanges, EXCHANGE_COLUMN, x -> String.valueOf(x.refreshes().size()));
        row(sb, "refresh, every layer once", exchanges, EXCHANGE_COLUMN, x -> fine(x.refreshBytes()));
        row(sb, "refresh per step, amortized", exchanges, EXCHANGE_COLUMN,
                x -> (x.refreshExact() ? "" : "≤ ") + fine(x.refreshBytesPerStep()));
        row(sb, "low-rank + refresh per step", exchanges, EXCHANGE_COLUMN,
                x -> (x.refreshExact() ? "" : "≤ ") + fine(x.lowRankBytesPerStep()));
        row(sb, "saving vs full gradients", exchanges, EXCHANGE_COLUMN,
                x -> (x.refreshExact() ? "" : "≥ ") + String.format("%.2f%%", 100 * x.saving()));
        if (exchanges.stream().anyMatch(x -> !x.refreshExact())) {
            sb.append(String.format("≤ / ≥: lazy refresh only grows its gap, so amortizing at the configured gap"
                    + " (adaptive: at min_gap) bounds the refresh traffic from above%n"));
        }
        return sb.toString();
    }

    /** A table row: {@code label} in 34 columns, then each column's cell right-aligned in {@code width}. */
    private static <T> void row(StringBuilder sb, String label, List<T> columns, int width,
            java.util.function.Function<T, String> cell) {
        sb.append(String.format("%-34s", label));
        for (T x : columns) {
            sb.append(String.format("%" + width + "s", cell.apply(x)));
        }
        sb.append('\n');
    }

    /** Bytes as B below 1 KiB, KiB below 1 MiB, else as {@link #size}. */
    static String fine(double bytes) {
        return bytes < 1024 ? String.format("%.0f B", bytes)
                : bytes < 1048576 ? String.format("%.2f KiB", bytes / 1024) : size(Math.round(bytes));
    }

    /** Bytes as MiB below 1 GiB, else GiB, two decimals. */
    static String size(long bytes) {
        return io.galore4j.trainer.plan.ByteSize.format(bytes);
    }
}
