package io.galore4j.galore;

import io.galore4j.projection.SubspaceStats;
import io.galore4j.projection.ProjectionScratch;
import io.galore4j.quant.RoundingRng;
import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The optimizer over named parameters, updated one parameter at a time so the trainer can call
 * it during backward and release each gradient at once (layer-wise update, docs/design.md §2).
 *
 * <p>Per step, for each parameter: zero or more {@link #accumulate} calls (non-final
 * micro-batches), then one {@link #update} (final micro-batch); after all parameters,
 * {@link #endStep}. GaLore parameters accumulate in the projected space (R is linear in G, r/m
 * of the memory); the basis of a step is chosen at the step's first gradient.
 *
 * <p>{@link #weight} returns the fp32 value for forward and backward. For fp32 storage it is the
 * stored array itself (updated in place). For INT8 and split (bf16 + int8 correction) storage
 * it is decoded into a pooled scratch array of the parameter's shape:
 * {@value WeightPool#PER_SHAPE} arrays per distinct shape, reused least-recently-used first.
 * The returned array holds the current value until {@value WeightPool#PER_SHAPE}
 * {@code weight()} calls for other parameters of the same shape were made, or until this
 * parameter is updated; do not write to it. Memory grows with the number of distinct shapes,
 * not of parameters. Likewise the projectors share one {@link ProjectionScratch} for their working
 * buffers (decoded INT4 bases, projected gradients), sized for the largest layer.
 *
 * <p>Data parallel ({@link #create(OptimSettings, long, Replicas)}, docs/design.md §3.9): every
 * replica runs one optimizer with the same settings, seed and parameters and makes the same
 * calls; each update uses the mean over the replicas of (gradient + accumulated micro-batches),
 * exchanged by {@link Exchange} (full-rank: the full gradient, small ones bucketed until
 * {@link #flush}; GaLore: R, and at a refresh the full gradient and the owner's basis; APOLLO
 * and Fira: the full gradient, and Fira's refreshed basis from its owner), so the
 * replicas' weights and states stay bit-identical ({@link #stateChecksum}).
 *
 * <p>Not thread-safe. Randomness (stochastic rounding of INT8 weights and log-codec states,
 * randomized SVD) is seeded from {@code seed}.
 */
public final class LayerwiseOptimizer implements AutoCloseable {
    private final OptimSettings settings;
    private final long seed;
    private final RoundingRng rng;
    private final WeightPool pool = new WeightPool();
    private final ProjectionScratch scratch = new ProjectionScratch(); // projectors' working buffers, shared
    private final MomentStep kernel = new MomentStep();
    private final Map<String, ParamState> params = new LinkedHashMap<>();
    private final List<SubspaceStats> events = new ArrayList<>();
    private final Exchange exchange; // null for a single process
    private final int replicas;
    private int galoreParams;
    private long step;

    private LayerwiseOptimizer(OptimSettings settings, long seed, Replicas replicas) {
        this.settings = settings;
        this.seed = seed;
        this.rng = new RoundingRng(seed);
        this.replicas = replicas.size();
        this.exchange = replicas.size() > 1 ? new Exchange(replicas) : null;
    }

    /** A single process ({@link Replicas#SINGLE}). */
    public static LayerwiseOptimizer create(OptimSettings settings, long seed) {
        return create(settings, seed, Replicas.SINGLE);
    }

    /**
     * One replica of a data-parallel group (see the class comment); every replica passes the same
     * settings and seed. With one replica it is exactly the single-process optimizer.
     */
    public static LayerwiseOptimizer create(OptimSettings settings, long seed, Replicas replicas) {
        if (settings == null || replicas == null) {
            throw new IllegalArgumentException("settings and replicas must not be null");
        }
        return new LayerwiseOptimizer(settings, seed, replicas);
    }

    /**
     * Adds a parameter with its initial value and takes ownership of its storage: an fp32
     * parameter is updated in place (a non-contiguous array is copied first); for INT8 or split
     * storage the array is encoded and not referenced afterwards (use {@link #weight}). Returns
     * whether the optimizer keeps {@code initial} itself as the parameter's storage (fp32
     * weights, contiguous); when it returns false the optimizer made its own copy (INT8 codes,
     * split bf16 + int8 parts, or a contiguous fp32 copy) and the caller may close
     * {@code initial}.
     *
     * @throws IllegalArgumentException for a duplicate name, a non-fp32 array, a non-finite value
     *                                  in an INT8 or split weight, or settings that do not fit this
     *                                  parameter (naming it and the field)
     */
    public boolean add(String name, INDArray initial) {
        if (name == null || params.containsKey(name)) {
            throw new IllegalArgumentException("parameter " + name + " is already added (or null)");
        }
        if (initial == null || initial.length() == 0 || initial.length() > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("parameter " + name + ": needs a non-empty array of at most 2^31 elements");
        }
        long[] shape = initial.shape();
        ParamSettings p = settings.resolve(name, shape);
        boolean apollo = p.apollo();
        boolean fira = p.fira();
        if (apollo && fira) {
            throw new IllegalArgumentException("parameter " + name + ": optim.residual fira adds to GaLore's update, not to"
                    + " optim.scaling " + io.galore4j.quant.EnumKeys.key(p.scaling()) + " (APOLLO); set one of them to none");
        }
        WeightStore w = switch (p.weights()) {
            case INT8 -> new Int8Weight(name, initial, pool, p.weightRounding(), rng);
            case SPLIT -> new SplitWeight(name, initial, pool);
            default -> new Fp32Weight(initial);
        };
        ParamState state = apollo ? new ApolloParam(name, shape, p, w, kernel, seed ^ name.hashCode())
                : p.galore() ? new GaloreParam(name, shape, p, w, kernel, settings.svdOversampling(),
                        settings.svdPowerIterations(), seed ^ name.hashCode(), scratch)
                : new FullRankParam(name, shape, p, w, kernel);
        state.exchange = exchange;
        if (state instanceof GaloreParam g) {
            g.owner = galoreParams++ % replicas;
        }
        params.put(name, state);
        return w instanceof Fp32Weight && w.value() == initial;
    }

    /** The current value as fp32 (see the class comment for how long an INT8 view stays valid). */
    public INDArray weight(String name) {
        return param(name).weight.value();
    }

    /**
     * Adds a non-final micro-batch's gradient of {@code name}; {@code grad} is not modified.
     *
     * @throws IllegalArgumentException naming the parameter for a gradient of the wrong shape or
     *                                  layout, or one that is rejected (see {@link #update}); a
     *                                  rejected gradient changes nothing. With replicas a
     *                                  micro-batch that is not finite here does not throw: it makes
     *                                  this step's sum non-finite, so {@link #update} rejects it on every replica
     */
    public void accumulate(String name, INDArray grad) {
        ParamState p = param(name);
        Chunks.checkGradient(name, grad, p.shape);
        try {
            p.accumulate(grad, rng, events);
        } finally {
            Reference.reachabilityFence(grad); // see update
        }
    }

    /**
     * The final micro-batch: the gradient is (grad + accumulated) × gradScale; updates the
     * parameter now with learning rate {@code lr}. Overwrites {@code grad}'s buffer.
     *
     * <p>The gradient is accepted or rejected as a whole before anything changes: a NaN or an
     * infinity in it (or in the sum with the accumulated micro-batches, or its projection), a
     * value whose square overflows Adam's second moment, or a basis refresh that fails, throws
     * IllegalArgumentException naming the parameter, and leaves the weight, the moments, the
     * accumulated gradient, the basis, the step counts and the random generators as they were:
     * the step of this parameter can then be continued with another gradient, or abandoned.
     *
     * <p>With replicas the gradient is the mean over them of (grad + accumulated), and a rejection
     * (of that mean) happens on every replica alike. A full-rank gradient of at most
     * {@value Exchange#SMALL} floats is only queued: {@link #flush} applies it, or rejects it.
     */
    public void update(String name, INDArray grad, double lr, double gradScale) {
        ParamState p = param(name);
        Chunks.checkGradient(name, grad, p.shape);
        if (!(lr >= 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("update of " + name + ": lr must be finite and ≥ 0 (got " + lr + ")");
        }
        if (!Double.isFinite(gradScale)) {
            throw new IllegalArgumentException("update of " + name + ": gradScale must be finite (got " + gradScale + ")");
        }
        try {
            p.update(grad, lr, gradScale, rng, events);
        } finally {
            // the update reads and writes grad's memory through an NIO view, which does not keep
            // the array alive: were grad collected meanwhile, ND4J would free that memory under it
            Reference.reachabilityFence(grad);
        }
        p.seenThisStep = true;
    }

    /**
     * Data parallel: exchanges the queued small full-rank gradients and applies their updates;
     * every replica calls it after the backward pass, before {@link #endStep} or
     * {@link #abandonStep}. A no-op for a single process.
     *
     * @throws IllegalArgumentException naming the first rejected queued update, after the others were applied
     */
    public void flush() {
        if (exchange != null) {
            exchange.flush(rng);
        }
    }

    /**
     * Data parallel: Σ‖mean gradient‖² over the parameters updated in this step (full-rank: the
     * full gradient, GaLore: R; micro-batches included, gradScale not applied), the same on every
     * replica; valid after {@link #flush} until {@link #endStep} or {@link #abandonStep}. NaN for a
     * single process.
     */
    public double exchangedSquaredNorm() {
        return exchange == null ? Double.NaN : exchange.squaredNorm();
    }

    /** What this replica exchanged since it was created ({@link ExchangeCounts#NONE} for a single process). */
    public ExchangeCounts exchangeCounts() {
        return exchange == null ? ExchangeCounts.NONE : exchange.counts();
    }

    /**
     * A 64-bit hash of the whole state (every parameter's weight, moments, basis, step count and
     * refresh state, the rounding generator, the step count): equal on replicas in the same state.
     */
    public long stateChecksum() {
        return StateChecksum.of(params.values(), rng.state(), step);
    }

    /**
     * Ends the step: the next gradient of every parameter starts a new step.
     *
     * @throws IllegalStateException with replicas, if queued updates were not {@link #flush}ed
     */
    public void endStep() {
        if (exchange != null) {
            if (exchange.pending()) {
                throw new IllegalStateException("endStep before flush(): queued updates would be lost");
            }
            exchange.endStep();
        }
        for (ParamState p : params.values()) {
            p.seenThisStep = false;
            p.poisoned = false; // a poisoned micro-batch spoils its own step only
        }
        kernel.trim();
        step++;
    }

    /**
     * Abandons the current step without ending it: accumulated micro-batch gradients are
     * dropped and the next gradient starts a new step (the trainer skips a step whose loss or
     * gradient is not finite). A parameter already updated in this step keeps its update: a
     * layer-wise update is applied the moment its gradient arrives.
     */
    public void abandonStep() {
        if (exchange != null) {
            exchange.endStep(); // queued updates not flushed are dropped (on every replica alike)
        }
        for (ParamState p : params.values()) {
            p.discardAccumulation();
            p.seenThisStep = false;
        }
        kernel.trim();
    }

    /** Optimizer steps ended so far. */
    public long step() {
        return step;
    }

    /** Refresh events since the last drain (layer = parameter name). */
    public List<SubspaceStats> drainRefreshEvents() {
        List<SubspaceStats> out = List.copyOf(events);
        events.clear();
        return out;
    }

    /** Basis computations (SVDs) so far, over all parameters. */
    public long svdCount() {
        long n = 0;
        for (ParamState p : params.values()) {
            if (p instanceof GaloreParam g) {
                n += g.svdCount();
            }
        }
        return n;
    }

    /** The fused moment kernel all parameters share (for tests). */
    MomentStep kernel() {
        return kernel;
    }

    public MemoryAccount memory() {
        List<MemoryAccount.Row> rows = new ArrayList<>();
        for (ParamState p : params.values()) {
            rows.add(p.account());
        }
        return new MemoryAccount(rows, pool.bytes(), scratch.bytes());
    }

    public Map<String, ParamSettings> effectiveSettings() {
        Map<String, ParamSettings> m = new LinkedHashMap<>();
        params.forEach((k, v) -> m.put(k, v.settings));
        return Collections.unmodifiableMap(m);
    }

    public Set<String> names() {
        return Collections.unmodifiableSet(params.keySet());
    }

    public OptimSettings settings() {
        return settings;
    }

    /** The state of the stochastic-rounding generator (for checkpoints). */
    public long[] rngState() {
        return rng.state();
    }

    /**
     * Saves the whole state between two steps: every parameter's tensors go to {@code sink}
     * (stored forms, not dequantized: INT8 codes with scales and zero points, encoded moments,
     * INT4 bases); the returned map (JSON-ready) holds the step count, the stochastic-rounding
     * generator and each parameter's scalars (its step count, codecs, refresh-policy and solver
     * state). The buffers are views: write them out before the next update.
     */
    public Map<String, Object> saveState(OptimizerState.Sink sink) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("step", step);
        List<Long> words = new ArrayList<>();
        for (long w : rng.state()) {
            words.add(w);
        }
        s.put("rng", words);
        Map<String, Object> ps = new LinkedHashMap<>();
        for (ParamState p : params.values()) {
            if (p.seenThisStep) {
                throw new IllegalStateException("saveState in the middle of a step (" + p.name + " has a gradient)");
            }
            ps.put(p.name, p.save(sink));
        }
        s.put("params", ps);
        return s;
    }

    /**
     * Restores a {@link #saveState} into an optimizer built with the same settings and parameters
     * (their initial values are overwritten). Returns the names of the tensors it read, so the
     * caller can refuse a checkpoint holding others. IllegalArgumentException naming the
     * parameter for anything that does not fit.
     */
    public Set<String> loadState(Map<String, ?> state, OptimizerState.Source source) {
        if (!(state.get("params") instanceof Map<?, ?> ps) || !(state.get("step") instanceof Number n)
                || n.longValue() < 0 || !(state.get("rng") instanceof List<?> r) || r.size() != 4) {
            throw new IllegalArgumentException("optimizer state needs step, rng (4 words) and params");
        }
        SavedWeights.checkParameterNames(ps, params.keySet());
        long[] words = new long[4];
        for (int i = 0; i < 4; i++) {
            if (!(r.get(i) instanceof Number w)) {
                throw new IllegalArgumentException("rng word " + i + " is not an integer");
            }
            words[i] = w.longValue();
        }
        Set<String> used = new java.util.HashSet<>();
        for (ParamState p : params.values()) {
            if (!(ps.get(p.name) instanceof Map<?, ?> m)) {
                throw new IllegalArgumentException("parameter " + p.name + ": state is not an object");
            }
            @SuppressWarnings("unchecked")
            Map<String, ?> pm = (Map<String, ?>) m;
            try {
                p.load(pm, source, used);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("parameter " + p.name + ": " + e.getMessage(), e);
            }
        }
        rng.restore(words);
        step = n.longValue();
        return used;
    }

    private ParamState param(String name) {
        ParamState p = params.get(name);
        if (p == null) {
            throw new IllegalArgumentException("unknown parameter " + name);
        }
        return p;
    }

    /** The projector of a GaLore parameter (tests). */
    GaloreParam galore(String name) {
        return (GaloreParam) param(name);
    }

    @Override
    public void close() {
        pool.close();
    }
}
