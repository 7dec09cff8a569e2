package io.galore4j.experiments.cli;

import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.config.RunConfig;
import io.galore4j.trainer.model.ModelConfig;
import io.galore4j.trainer.plan.ByteSize;
import io.galore4j.trainer.plan.MemoryPlan;
import io.galore4j.trainer.plan.PlanEntry;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code galore plan}: the configurations of a model that fit a memory budget, best first (docs/design.md §4). */
@Command(
        name = "plan",
        header = "List the configurations that fit a memory budget, best first.",
        mixinStandardHelpOptions = true,
        description = {
            "Search the settings that change memory (method, rank, weight format, state codecs, activation checkpointing,"
                    + " micro-batch with gradient accumulation keeping the global batch) and list the configurations whose"
                    + " estimate (galore memory) fits the budget, best first, each with the --set line that trains it.",
            "The budget is per process: with --workers N, per worker."
        })
public final class PlanCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "PRESET_OR_CONFIG",
            description = "a model preset (micro, 60m, 130m, 350m, 1b, 7b) or a YAML config file")
    String model;

    @Option(names = "--budget", required = true, paramLabel = "SIZE",
            description = "memory per process, e.g. 16GiB, 512MiB, 16G (K, M, G, T and KiB … TiB: powers of 1024; KB … TB: of 1000)")
    String budget;

    @Option(names = "--batch", paramLabel = "N",
            description = "sequences per optimizer step (the global batch, per worker), split into micro-batches"
                    + " with gradient accumulation (default: train.batch_size × train.grad_accum)")
    Integer batch;

    @Option(names = "--seq", paramLabel = "N", description = "tokens per sequence (sets model.seq_len; default: the model's)")
    Integer seq;

    @Option(names = "--method", paramLabel = "METHOD[,METHOD...]", split = ",",
            description = "the methods to consider (default: every method)")
    List<String> methods = new ArrayList<>();

    @Option(names = "--workers", paramLabel = "N", description = "data-parallel workers the run will have (sets train.workers;"
            + " each worker's memory is planned)")
    Integer workers;

    @Option(names = "--top", paramLabel = "N", defaultValue = "10",
            description = "print the first N configurations; 0 prints all (default: ${DEFAULT-VALUE})")
    int top;

    @Mixin Overrides overrides;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (top < 0) {
            throw new IllegalArgumentException("--top must be ≥ 0, got " + top);
        }
        long bytes = parseBudget(budget, "--budget");
        List<String> baseSets = new ArrayList<>();
        ConfigTree tree = ConfigTree.defaults();
        Set<String> fixed = new LinkedHashSet<>();
        Path file = Path.of(model);
        if (model.endsWith(".yaml") || model.endsWith(".yml") || Files.isRegularFile(file)) {
            tree = tree.merge(file);
            fixed.addAll(FixedKeys.ofFile(file));
            baseSets.add("--config " + model);
        } else {
            baseSets.add("model.preset=" + model);
        }
        if (seq != null) {
            baseSets.add("model.seq_len=" + seq);
        }
        if (workers != null) {
            baseSets.add("train.workers=" + workers);
        }
        baseSets.addAll(overrides.sets);
        for (String s : baseSets) {
            if (!s.startsWith("--config ")) {
                tree = tree.set(s);
            }
        }
        fixed.addAll(FixedKeys.ofSets(overrides.sets));
        MemoryPlan.Plan plan = MemoryPlan.search(tree, bytes, batch, methods, fixed);
        plan.first(); // nothing fits: one line naming the smallest configuration's estimate, exit 2
        PrintWriter out = spec.commandLine().getOut();
        out.print(table(plan, RunConfig.modelConfig(tree), seqLen(tree), baseSets, top));
        out.flush();
        return 0;
    }

    /** {@code text} as a budget in bytes; a bad size names {@code option}. */
    static long parseBudget(String text, String option) {
        try {
            return ByteSize.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + ": " + e.getMessage(), e);
        }
    }

    private static int seqLen(ConfigTree tree) {
        return RunConfig.modelConfig(tree).seqLen();
    }

    /** The plan as printed: the request, the ordering rule, then each configuration with its --set line. */
    static String table(MemoryPlan.Plan plan, ModelConfig m, int seq, List<String> baseSets, int top) {
        StringBuilder sb = new StringBuilder();
        int shown = top == 0 ? plan.fits().size() : Math.min(top, plan.fits().size());
        sb.append(String.format("model: %,d parameters (hidden %d, %d layers); global batch %d × seq %d; budget %s per"
                        + " process; %d of %d priced configurations fit, %d shown%n", m.parameterCount(), m.hidden(),
                m.layers(), plan.globalBatch(), seq, ByteSize.format(plan.budgetBytes()), plan.fits().size(),
                plan.priced(), shown));
        sb.append("order: ").append(PlanEntry.RULE).append('\n');
        sb.append("quality: the method's final val_loss on micro at its preset, where measured (docs/benchmarks.md)\n");
        String prefix = String.join(" ", baseSets.stream().map(s -> s.startsWith("--config ") ? s : "--set " + s).toList());
        for (int i = 0; i < shown; i++) {
            PlanEntry e = plan.fits().get(i);
            long total = e.estimate().totalBytes();
            sb.append(String.format("%n%2d. %s, headroom %s: %s%s%n", i + 1, ByteSize.format(total),
                    ByteSize.format(plan.budgetBytes() - total), e.describe(),
                    e.quality() == null ? "" : "; " + e.quality().describe()));
            sb.append("    ").append(prefix).append(prefix.isEmpty() ? "" : " ").append(e.setLine()).append('\n');
        }
        return sb.toString();
    }
}
