package io.galore4j.trainer.plan;

import io.galore4j.galore.OptimSettings;
import io.galore4j.galore.ParamSettings;
import io.galore4j.galore.WeightStorage;
import io.galore4j.quant.StateCodec;
import io.galore4j.trainer.MemoryEstimate;
import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.config.RunConfig;
import io.galore4j.trainer.config.TrainSettings;
import io.galore4j.trainer.model.ModelConfig;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * {@code galore plan}: the configurations of a model that fit a memory budget, best first
 * (docs/design.md §4). It varies only the settings that change memory and that the user left
 * open, prices every candidate with the one estimator ({@link MemoryEstimate}, which owns every
 * byte formula), keeps those whose estimate is within the budget and orders them by
 * {@link PlanEntry#ORDER}.
 *
 * <p>The candidates, for each method asked for (every preset unless the user names some):
 * <ul>
 * <li>{@code optim.rank}, for projected methods: powers of two from {@value #MIN_RANK} (or less for
 * a hidden size below 64) to a quarter of the hidden size (the GaLore papers' ratio, 1024 for 7B), the preset's rank where it is below
 * that range (APOLLO-Mini's rank 1 is what makes it Mini);</li>
 * <li>{@code optim.weights}: projected methods with fp32 weights also try INT8 weights for the
 * projected matrices (Q-GaLore's storage);</li>
 * <li>{@code optim.m_codec} / {@code optim.v_codec}: projected Adam methods also try the 8-bit
 * (dynamic8) and 4-bit (de4 / linear4nz-rank1) states below their preset's width (the full-rank
 * presets already span 32-, 8-, 4- and 2-bit states);</li>
 * <li>{@code model.checkpoint_activations}: off and on;</li>
 * <li>{@code train.batch_size} × {@code train.grad_accum}: every split of the global batch into
 * micro-batches; for each other setting only the largest micro-batch that fits is kept, and
 * checkpointing only where it allows a larger micro-batch than no checkpointing (otherwise it
 * only costs time).</li>
 * </ul>
 * Workers are not searched: {@code train.workers} is the user's (each worker holds a whole
 * replica, so more workers never lower a worker's memory); the budget is per process, each worker's
 * estimate including its exchange buffers and runtime. A candidate the settings refuse (a rank
 * above a matrix's smaller side) is not planned.
 */
public final class MemoryPlan {

    /** The smallest rank searched. */
    static final int MIN_RANK = 16;

    /** The planned settings: what a plan may vary when the user did not fix it. */
    public static final List<String> KEYS = List.of("optim.method", "optim.rank", "optim.weights", "optim.weights_scope",
            "optim.m_codec", "optim.v_codec", "model.checkpoint_activations", "train.batch_size", "train.grad_accum");

    private static final String[][] STATE_TIERS = {{"dynamic8", "dynamic8"}, {"de4", "linear4nz-rank1"}};

    /**
     * A plan: the configurations within the budget, best first; the smallest one priced (null when
     * nothing was valid); how many candidates were priced.
     */
    public record Plan(long budgetBytes, int globalBatch, List<PlanEntry> fits, PlanEntry smallest, int priced) {

        /** The first configuration, or the one line saying that nothing fits (exit 2). */
        public PlanEntry first() {
            if (fits.isEmpty()) {
                throw new IllegalArgumentException("nothing fits in " + ByteSize.format(budgetBytes)
                        + (smallest == null ? "" : ": the smallest configuration (" + smallest.describe()
                                + ") needs an estimated " + ByteSize.format(smallest.estimate().totalBytes())));
            }
            return fits.get(0);
        }
    }

    private final ConfigTree base;
    private final long budget;
    private final Set<String> fixed;
    private final ModelConfig model;
    private final TrainSettings train;
    private final Quality quality = Quality.load();
    private final List<PlanEntry> fits = new ArrayList<>();
    private PlanEntry smallest;
    private int priced;

    private MemoryPlan(ConfigTree base, long budget, Set<String> fixed) {
        this.base = base;
        this.budget = budget;
        this.fixed = fixed;
        this.model = RunConfig.modelConfig(base);
        this.train = TrainSettings.from(base);
    }

    /**
     * The plan of {@code base} (the user's settings) within {@code budgetBytes} per process.
     *
     * @param globalBatch sequences per optimizer step and worker, or null for the configuration's
     *                    train.batch_size × train.grad_accum
     * @param methods     the methods to consider; empty: optim.method when the user fixed it, else every preset
     * @param fixed       the keys the user set; the plan varies none of them
     */
    public static Plan search(ConfigTree base, long budgetBytes, Integer globalBatch, Collection<String> methods,
            Set<String> fixed) throws IOException {
        MemoryPlan p = new MemoryPlan(base, budgetBytes, fixed);
        boolean batchFixed = fixed.contains("train.batch_size") || fixed.contains("train.grad_accum");
        if (globalBatch != null && batchFixed) {
            throw new IllegalArgumentException("a global batch is planned over train.batch_size and train.grad_accum:"
                    + " leave both open, or give no global batch");
        }
        int global = globalBatch != null ? globalBatch : p.train.batchSize() * p.train.gradAccum();
        if (global < 1) {
            throw new IllegalArgumentException("the global batch must be ≥ 1, got " + global);
        }
        List<String> names = !methods.isEmpty() ? List.copyOf(methods)
                : fixed.contains("optim.method") ? List.of(OptimSettings.from(base.section("optim")).method())
                : List.copyOf(OptimSettings.methods());
        for (String method : names) {
            p.method(method, global, batchFixed);
        }
        p.fits.sort(PlanEntry.ORDER);
        return new Plan(budgetBytes, global, List.copyOf(p.fits), p.smallest, p.priced);
    }

    /** Every candidate of one method. */
    private void method(String method, int global, boolean batchFixed) throws IOException {
        ConfigTree withMethod = fixed.contains("optim.method") ? base : base.set("optim.method=" + method);
        List<String> methodSet = fixed.contains("optim.method") ? List.of() : List.of("optim.method=" + method);
        ParamSettings preset = PlanEntry.representative(OptimSettings.from(withMethod.section("optim")), model);
        for (String rank : ranks(preset)) {
            for (List<String> weights : weights(preset)) {
                for (List<String> states : states(preset)) {
                    List<String> sets = new ArrayList<>(methodSet);
                    sets.addAll(rank == null ? List.of() : List.of("optim.rank=" + rank));
                    sets.addAll(weights);
                    sets.addAll(states);
                    settings(sets, global, batchFixed);
                }
            }
        }
    }

    /** One choice of optimizer settings: the largest micro-batch that fits without and with checkpointing. */
    private void settings(List<String> optimSets, int global, boolean batchFixed) throws IOException {
        ConfigTree tree = apply(base, optimSets);
        RunConfig resolved;
        try {
            resolved = RunConfig.resolve(tree);
        } catch (IllegalArgumentException refused) {
            return; // a combination the settings refuse is not a candidate
        }
        boolean cpFixed = fixed.contains("model.checkpoint_activations");
        int bestWithout = 0;
        for (boolean cp : cpFixed ? new boolean[] {tree.values().bool("model.checkpoint_activations")}
                : new boolean[] {false, true}) {
            for (int micro = batchFixed ? train.batchSize() : global; micro >= 1; micro--) {
                if (!batchFixed && global % micro != 0) {
                    continue;
                }
                List<String> sets = new ArrayList<>(optimSets);
                if (!cpFixed) {
                    sets.add("model.checkpoint_activations=" + cp);
                }
                if (!batchFixed) {
                    sets.add("train.batch_size=" + micro);
                    sets.add("train.grad_accum=" + global / micro);
                }
                ConfigTree t = apply(base, sets);
                PlanEntry e = PlanEntry.of(resolved, sets, MemoryEstimate.of(t, null, null), quality, micro,
                        batchFixed ? train.gradAccum() : global / micro);
                priced++;
                if (smallest == null || e.estimate().totalBytes() < smallest.estimate().totalBytes()) {
                    smallest = e;
                }
                if (e.estimate().totalBytes() <= budget) {
                    if (!cp || micro > bestWithout) { // checkpointing only where it buys a larger micro-batch
                        fits.add(e);
                    }
                    if (!cp) {
                        bestWithout = micro;
                    }
                    break; // a smaller micro-batch fits too, and only costs time
                }
            }
        }
    }

    private List<String> ranks(ParamSettings preset) {
        List<String> ranks = new ArrayList<>();
        if (!preset.galore() || fixed.contains("optim.rank") || preset.rank() < MIN_RANK) {
            ranks.add(null); // the configuration's own rank
            return ranks;
        }
        // below a hidden size of 64 the range is the one power of two at or below a quarter of it
        for (int r = Math.min(MIN_RANK, Integer.highestOneBit(Math.max(1, model.hidden() / 4))); r <= Math.max(1, model.hidden() / 4); r *= 2) {
            ranks.add(String.valueOf(r));
        }
        return ranks;
    }

    private List<List<String>> weights(ParamSettings preset) {
        List<List<String>> w = new ArrayList<>();
        w.add(List.of());
        if (preset.galore() && preset.weights() == WeightStorage.FP32 && !fixed.contains("optim.weights")
                && !fixed.contains("optim.weights_scope")) {
            w.add(List.of("optim.weights=int8", "optim.weights_scope=projection"));
        }
        return w;
    }

    private List<List<String>> states(ParamSettings preset) {
        List<List<String>> s = new ArrayList<>();
        s.add(List.of());
        if (!preset.galore() || preset.rule() != io.galore4j.galore.UpdateRule.ADAMW
                || fixed.contains("optim.m_codec") || fixed.contains("optim.v_codec")) {
            return s;
        }
        int presetBits = PlanEntry.stateBits(preset);
        for (String[] tier : STATE_TIERS) {
            List<String> sets = List.of("optim.m_codec=" + tier[0], "optim.v_codec=" + tier[1]);
            int bits = StateCodec.of(tier[0], io.galore4j.quant.Moment.FIRST).bits()
                    + StateCodec.of(tier[1], io.galore4j.quant.Moment.SECOND).bits();
            if (bits < presetBits) {
                s.add(sets);
            }
        }
        return s;
    }

    private static ConfigTree apply(ConfigTree tree, List<String> sets) {
        for (String s : sets) {
            tree = tree.set(s);
        }
        return tree;
    }
}
