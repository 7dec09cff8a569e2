package io.galore4j.trainer;

import io.galore4j.galore.OptimSettings;
import io.galore4j.galore.ParamSettings;
import io.galore4j.projection.BasisCandidate;
import io.galore4j.projection.RefreshKind;
import io.galore4j.projection.RefreshPolicy;
import io.galore4j.quant.EnumKeys;
import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.config.RunConfig;
import io.galore4j.trainer.model.LlamaParameters;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one data-parallel step exchanges per worker, from the configuration alone (docs/design.md
 * §3.8: one owner of each byte formula; §3.9: what the optimizer sends). Each step sums the fp32
 * gradient of every parameter that is not projected, and for every GaLore-projected matrix only
 * its projected gradient R (its shape from {@link io.galore4j.projection.Side#projectedShape}, as
 * the projector computes it); when a projected layer refreshes its basis, the replicas sum that
 * micro-batch's full m×n gradient, and its owner broadcasts the candidate
 * ({@link BasisCandidate#payloadFloats}: a header, the leading singular values and the basis as
 * stored: fp32, or INT4 codes packed three bytes per float with their scales, zero points and fp32
 * first vector). APOLLO's matrices exchange their full gradient every step and nothing at a seed
 * change (P is drawn from a shared seed); Fira's exchange their full gradient every step, and at a
 * refresh only the owner's candidate (the mean it is computed from is already on every replica).
 * The reference is exchanging every full gradient: Σ|θ| floats.
 *
 * <p>Refresh traffic per step is each projected layer's basis bytes divided by the smallest gap
 * its policy can reach ({@link RefreshPolicy#leastGap}): for a fixed policy that is the exact
 * long-run average; lazy and lazy-reset only ever grow their gap, so the figure at the configured
 * gap is an upper bound; adaptive can shrink its gap down to its min_gap, so the bound uses min_gap.
 *
 * @param method     the optimizer method
 * @param fullFloats floats of every parameter's full gradient: what plain data parallelism exchanges per step
 * @param stepFloats floats exchanged per step with projection: full gradients of the parameters
 *                   that are not projected plus R of the projected ones (refreshes excluded)
 * @param refreshes  one entry per projected parameter, in parameter order
 */
public record ExchangeBytes(String method, long fullFloats, long stepFloats, List<Refresh> refreshes) {

    /** Bytes per exchanged gradient element: gradients are all-reduced in fp32. */
    public static final int GRADIENT_BYTES = 4;

    /**
     * One projected parameter's refresh traffic.
     *
     * @param name      the parameter
     * @param projected elements of its projected gradient R
     * @param basisBits 32 (fp32 basis) or 4 (INT4 basis)
     * @param gradient  floats of its full gradient summed at each refresh (m·n; 0 for Fira, which
     *                  exchanges it every step)
     * @param payload   floats of the candidate its owner broadcasts at each refresh
     * @param policy    its refresh policy
     * @param gap       the smallest gap that policy can reach (see the class comment)
     */
    public record Refresh(String name, long projected, int basisBits, long gradient, long payload, RefreshKind policy,
            long gap) {
        /** Bytes exchanged per refresh: the full gradient and the candidate, in fp32. */
        public long bytes() {
            return GRADIENT_BYTES * (gradient + payload);
        }

        /** Bytes per step, amortized over {@link #gap}: exact for fixed refresh, else an upper bound. */
        public double bytesPerStep() {
            return (double) bytes() / gap;
        }
    }

    public ExchangeBytes {
        refreshes = List.copyOf(refreshes);
    }

    /** The exchange of a validated configuration (model and optim sections). */
    public static ExchangeBytes of(ConfigTree tree) {
        return of(OptimSettings.from(tree.section("optim")), LlamaParameters.shapes(RunConfig.modelConfig(tree)));
    }

    /** The exchange of parameters of these shapes (in map order) under these optimizer settings. */
    public static ExchangeBytes of(OptimSettings settings, Map<String, long[]> shapes) {
        long full = 0;
        long step = 0;
        List<Refresh> refreshes = new ArrayList<>();
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long[] shape = e.getValue();
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            full += n;
            ParamSettings p = settings.resolve(e.getKey(), shape);
            boolean apollo = p.apollo();
            boolean fira = p.fira();
            if (!p.galore() || apollo) {
                step += n;
                continue;
            }
            long[] r = p.side().projectedShape(shape[0], shape[1], p.rank());
            step += fira ? n : r[0] * r[1];
            long payload = BasisCandidate.payloadFloats(p.basisBits(), p.rank(),
                    p.side().basisDimension(shape[0], shape[1]), BasisCandidate.singularValuesSent(p.rank()));
            long gap = RefreshPolicy.of(p.refresh(), p.refreshParams()).leastGap();
            refreshes.add(new Refresh(e.getKey(), r[0] * r[1], p.basisBits(), fira ? 0 : n, payload, p.refresh(), gap));
        }
        return new ExchangeBytes(settings.method(), full, step, refreshes);
    }

    public long fullBytes() {
        return GRADIENT_BYTES * fullFloats;
    }

    /** Gradient bytes per step with projection, refreshes excluded. */
    public long stepBytes() {
        return GRADIENT_BYTES * stepFloats;
    }

    /** Bytes exchanged when every projected layer refreshes once (full gradients and candidates). */
    public long refreshBytes() {
        return refreshes.stream().mapToLong(Refresh::bytes).sum();
    }

    /** Refresh bytes per step, amortized over each layer's gap: exact for fixed refresh, else an upper bound. */
    public double refreshBytesPerStep() {
        return refreshes.stream().mapToDouble(Refresh::bytesPerStep).sum();
    }

    /** Whether {@link #refreshBytesPerStep} is exact (every projected layer refreshes at a fixed gap). */
    public boolean refreshExact() {
        return refreshes.stream().allMatch(r -> r.policy() == RefreshKind.FIXED);
    }

    /** Gradient bytes plus amortized refresh bytes per step. */
    public double lowRankBytesPerStep() {
        return stepBytes() + refreshBytesPerStep();
    }

    /** The fraction of the full-gradient bytes not exchanged: 1 − low-rank / full (negative if projection costs more). */
    public double saving() {
        return 1 - lowRankBytesPerStep() / fullBytes();
    }

    /** As JSON-ready fields (the {@code exchange} object of {@code galore memory --json --exchange}). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("full_floats_per_step", fullFloats);
        m.put("full_bytes_per_step", fullBytes());
        m.put("low_rank_floats_per_step", stepFloats);
        m.put("low_rank_bytes_per_step", stepBytes());
        m.put("projected_layers", refreshes.size());
        m.put("refresh_bytes_all_layers", refreshBytes());
        m.put("refresh_bytes_per_step", refreshBytesPerStep());
        m.put("refresh_per_step_exact", refreshExact());
        m.put("refresh_policies", refreshes.stream().map(r -> EnumKeys.key(r.policy())).distinct().toList());
        m.put("low_rank_total_bytes_per_step", lowRankBytesPerStep());
        m.put("saving", saving());
        return m;
    }
}
