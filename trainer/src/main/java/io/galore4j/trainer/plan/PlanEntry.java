package io.galore4j.trainer.plan;

import io.galore4j.galore.OptimSettings;
import io.galore4j.galore.ParamSettings;
import io.galore4j.galore.UpdateRule;
import io.galore4j.quant.EnumKeys;
import io.galore4j.quant.Moment;
import io.galore4j.quant.StateCodec;
import io.galore4j.trainer.MemoryEstimate;
import io.galore4j.trainer.config.RunConfig;
import io.galore4j.trainer.model.LlamaParameters;
import io.galore4j.trainer.model.ModelConfig;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * One configuration of a plan ({@link MemoryPlan}): the settings it changes ({@code key=value},
 * what {@code --set} takes), its estimate, and the traits it is ordered by.
 *
 * @param sets         the planned settings, as {@code --set} assignments
 * @param estimate     the estimator's account of the configuration
 * @param method       optim.method
 * @param rank         the projected matrices' rank, or 0 for a full-rank method
 * @param weightBits   bits per stored weight of the projected (else the largest) matrices: fp32 32,
 *                     split 24 (bf16 and an int8 correction), INT8 8
 * @param stateBits    bits per element of the optimizer states kept, summed over the moments
 * @param states       the same per moment, e.g. "8+8" (first moment + second)
 * @param basisBits    bits per stored basis element (32 where no basis is stored)
 * @param microBatch   train.batch_size
 * @param gradAccum    train.grad_accum
 * @param quality      the method's measured quality, or null
 */
public record PlanEntry(List<String> sets, MemoryEstimate estimate, String method, int rank, int weightBits,
        int stateBits, String states, int basisBits, int microBatch, int gradAccum, Quality.Figure quality) {

    /**
     * The plan's order, a total order: full-rank before projected; higher rank first; more bits
     * per weight, then per optimizer state first; no activation
     * checkpointing before checkpointing; larger micro-batch first; then the method's lower
     * measured val_loss on micro (unmeasured last); then the settings' text.
     */
    public static final Comparator<PlanEntry> ORDER = Comparator
            .comparing((PlanEntry e) -> e.rank != 0)
            .thenComparing(e -> -(long) (e.rank == 0 ? Integer.MAX_VALUE : e.rank))
            .thenComparing(e -> -e.weightBits)
            .thenComparing(e -> -e.stateBits)
            .thenComparing(e -> e.estimate.checkpointed())
            .thenComparing(e -> -e.microBatch)
            .thenComparing(e -> e.quality == null ? Double.MAX_VALUE : e.quality.valLoss())
            .thenComparing(e -> String.join(" ", e.sets));

    /** The ordering rule in words, as {@code galore plan} prints it and docs/design.md §4 states it. */
    public static final String RULE = "full-rank before projected; higher rank first; more bits per weight, then per"
            + " optimizer state first; no activation checkpointing before checkpointing;"
            + " larger micro-batch first; then the method's lower measured val_loss on micro";

    /**
     * The entry of a configuration made from the base by {@code sets}: {@code c} its optimizer
     * settings resolved (the same for every micro-batch and checkpointing setting), its micro-batch
     * and accumulation as planned.
     */
    static PlanEntry of(RunConfig c, List<String> sets, MemoryEstimate estimate, Quality quality, int microBatch,
            int gradAccum) {
        ParamSettings p = representative(c.optim(), c.model());
        int weightBits = switch (p.weights()) {
            case FP32 -> 32;
            case SPLIT -> 24;
            case INT8 -> 8;
        };
        int basisBits = p.galore() && !p.apollo() ? p.basisBits() : 32;
        return new PlanEntry(List.copyOf(sets), estimate, c.optim().method(), p.galore() ? p.rank() : 0, weightBits,
                stateBits(p), states(p), basisBits, microBatch, gradAccum, quality.of(c.optim().method()));
    }

    /**
     * The settings that stand for a configuration's optimizer: those of its first projected
     * matrix, or for a full-rank method those of its largest parameter.
     */
    static ParamSettings representative(OptimSettings optim, ModelConfig model) {
        ParamSettings largest = null;
        long most = -1;
        for (Map.Entry<String, long[]> e : LlamaParameters.shapes(model).entrySet()) {
            ParamSettings p = optim.resolve(e.getKey(), e.getValue());
            if (p.galore()) {
                return p;
            }
            long n = 1;
            for (long d : e.getValue()) {
                n *= d;
            }
            if (n > most) {
                most = n;
                largest = p;
            }
        }
        return largest;
    }

    /** Bits per element of the states {@code p} keeps: the first moment's, plus the second's where kept. */
    static int stateBits(ParamSettings p) {
        return momentBits(p).stream().mapToInt(Integer::intValue).sum();
    }

    /** The bits of each moment {@code p} keeps, e.g. "8+8". */
    static String states(ParamSettings p) {
        return String.join("+", momentBits(p).stream().map(String::valueOf).toList());
    }

    private static List<Integer> momentBits(ParamSettings p) {
        int m = StateCodec.of(EnumKeys.key(p.mCodec()), Moment.FIRST).bits();
        boolean keepsV = p.galore() || p.rule() == UpdateRule.ADAMW;
        return keepsV ? List.of(m, StateCodec.of(EnumKeys.key(p.vCodec()), Moment.SECOND).bits()) : List.of(m);
    }

    /** The configuration in a few words, e.g. "q-galore, rank 1024, int8 weights, 8+8-bit states, checkpointing, batch 1 × 4". */
    public String describe() {
        StringBuilder s = new StringBuilder(method);
        s.append(rank == 0 ? ", full rank" : ", rank " + rank);
        s.append(weightBits == 32 ? ", fp32" : weightBits == 24 ? ", split" : ", int8").append(" weights");
        s.append(", ").append(states).append("-bit states");
        if (rank != 0 && basisBits != 32) {
            s.append(", ").append(basisBits).append("-bit basis");
        }
        s.append(estimate.checkpointed() ? ", checkpointing" : ", no checkpointing");
        s.append(", micro-batch ").append(microBatch).append(" × ").append(gradAccum).append(" accumulated");
        return s.toString();
    }

    /** The planned settings as one {@code --set} line. */
    public String setLine() {
        StringBuilder s = new StringBuilder();
        for (String a : sets) {
            s.append(s.length() == 0 ? "" : " ").append("--set ").append(a);
        }
        return s.toString();
    }
}
