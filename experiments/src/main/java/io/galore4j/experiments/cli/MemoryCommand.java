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

    /** A fixed-width table: one row per component, one column per method (14 wide: q-apollo-mini fits), sizes in MiB or GiB. */
    static String table(List<MemoryEstimate> estimates) {
        MemoryEstimate first = estimates.get(0);
        ModelConfig m = first.model();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("model: hidden %d, %d layers, %d heads, intermediate %d, vocab %d (%,d parameters);"
                        + " batch %d × seq %d; activation checkpointing %s%n", m.hidden(), m.layers(), m.heads(),
                m.intermediate(), m.vocab(), m.parameterCount(), first.batch(), first.seq(),
                first.checkpointed() ? "on" : "off (--set model.checkpoint_activations=true to turn on)"));
        sb.append(String.format("%-34s", "component"));
        for (MemoryEstimate e : estimates) {
            sb.append(String.format("%14s", e.method()));
        }
        sb.append('\n');
        for (String c : first.components().keySet()) {
            if (c.equals("exchange_buffers") && estimates.stream().allMatch(e -> e.components().get(c) == 0)) {
                continue; // a single process exchanges nothing: its table stays as it was
            }
            sb.append(String.format("%-34s", c));
            for (MemoryEstimate e : estimates) {
                sb.append(String.format("%14s", size(e.components().get(c))));
            }
            sb.append('\n');
        }
        row(sb, "total", estimates, MemoryEstimate::totalBytes);
        sb.append('\n');
        row(sb, "activations, checkpointed", estimates, MemoryEstimate::activationsCheckpointed);
        row(sb, "activations, not checkpointed", estimates, MemoryEstimate::activationsFull);
        sb.append(String.format("%-34s", "bytes/param (weights + optimizer)"));
        for (MemoryEstimate e : estimates) {
            sb.append(String.format("%14.3f", e.persistentBytesPerParameter()));
        }
        sb.append('\n');
        if (estimates.stream().anyMatch(e -> e.accumulationBytesPerParameter() > 0)) {
            sb.append(String.format("%-34s", "  + accumulated gradients"));
            for (MemoryEstimate e : estimates) {
                sb.append(String.format("%14.3f", e.persistentBytesPerParameter() + e.accumulationBytesPerParameter()));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** One column per method: floats and bytes one data-parallel step exchanges per worker, and the saving. */
    static String exchangeTable(List<ExchangeBytes> exchanges) {
        StringBuilder sb = new StringBuilder(String.format("%ndata-parallel exchange per step and worker (fp32 gradients;"
                + " a refresh sums the layer's full gradient and broadcasts its new basis as stored)%n"));
        sb.append(String.format("%-34s", "exchange"));
        exchanges.forEach(x -> sb.append(String.format("%16s", x.method())));
        sb.append('\n');
        exchangeRow(sb, "full gradients, floats", exchanges, x -> String.format("%,d", x.fullFloats()));
        exchangeRow(sb, "full gradients", exchanges, x -> fine(x.fullBytes()));
        exchangeRow(sb, "low-rank gradients, floats", exchanges, x -> String.format("%,d", x.stepFloats()));
        exchangeRow(sb, "low-rank gradients", exchanges, x -> fine(x.stepBytes()));
        exchangeRow(sb, "projected layers", exchanges, x -> String.valueOf(x.refreshes().size()));
        exchangeRow(sb, "refresh, every layer once", exchanges, x -> fine(x.refreshBytes()));
        exchangeRow(sb, "refresh per step, amortized", exchanges,
                x -> (x.refreshExact() ? "" : "≤ ") + fine(x.refreshBytesPerStep()));
        exchangeRow(sb, "low-rank + refresh per step", exchanges,
                x -> (x.refreshExact() ? "" : "≤ ") + fine(x.lowRankBytesPerStep()));
        exchangeRow(sb, "saving vs full gradients", exchanges,
                x -> (x.refreshExact() ? "" : "≥ ") + String.format("%.2f%%", 100 * x.saving()));
        if (exchanges.stream().anyMatch(x -> !x.refreshExact())) {
            sb.append(String.format("≤ / ≥: lazy refresh only grows its gap, so amortizing at the configured gap"
                    + " (adaptive: at min_gap) bounds the refresh traffic from above%n"));
        }
        return sb.toString();
    }

    private static void exchangeRow(StringBuilder sb, String label, List<ExchangeBytes> exchanges,
            java.util.function.Function<ExchangeBytes, String> f) {
        sb.append(String.format("%-34s", label));
        exchanges.forEach(x -> sb.append(String.format("%16s", f.apply(x))));
        sb.append('\n');
    }

    private static void row(StringBuilder sb, String label, List<MemoryEstimate> estimates,
            java.util.function.ToLongFunction<MemoryEstimate> f) {
        sb.append(String.format("%-34s", label));
        for (MemoryEstimate e : estimates) {
            sb.append(String.format("%14s", size(f.applyAsLong(e))));
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
