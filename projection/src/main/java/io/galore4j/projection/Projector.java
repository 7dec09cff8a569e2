package io.galore4j.projection;

import io.galore4j.quant.QuantizedTensor;
import java.nio.Buffer;
import java.util.LinkedHashMap;
import java.util.Map;

import java.util.Optional;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One layer's GaLore projector (Zhao et al. 2024, Alg. 2; docs/design.md §3): holds the rank-r basis
 * P of its m×n gradient, recomputes it when its {@link RefreshPolicy} says so, projects
 * gradients into the subspace and updates back out of it.
 * <pre>
 *   LEFT  (P = U[:, :r], m×r):  R = Pᵀ G (r×n),  ΔW = α P N
 *   RIGHT (P = V[:, :r], n×r):  R = G P (m×r),   ΔW = α N Pᵀ
 * </pre>
 * The basis is kept as Pᵀ (r × m or r × n, one singular vector per row), in fp32 or in INT4
 * ({@link ProjectorConfig#basisBits()}). Working buffers (an INT4 basis's decoded copy, the
 * projected gradient, the rotation of the last refresh) come from a {@link ProjectionScratch}
 * that projectors of one optimizer share, so they cost the largest layer's size once, not every
 * layer's; a buffer handed out stays valid until another projector sharing the scratch needs the
 * same kind. Inputs are 2-D FLOAT or DOUBLE arrays.
 *
 * <p>Not thread-safe: one projector per layer, called by the optimizer's thread.
 */
public final class Projector {
    private final String layer;
    private final long rows;
    private final long cols;
    private final ProjectorConfig config;
    private final Side side;
    private final int rank;
    private final BasisSolver solver;
    private final RefreshPolicy policy;
    private final BasisStore store;
    private final ProjectionScratch scratch;
    private final BasisMethod basisMethod;

    private final SubspaceMaps maps;
    private long rotations;          // refreshes that computed P_newᵀ P_old (the scratch's version of it)
    private SubspaceStats lastStats;

    /**
     * @throws IllegalArgumentException if the shape is not positive or the rank exceeds min(rows, cols)
     */
    public Projector(String layer, long rows, long cols, ProjectorConfig config, RefreshPolicy policy) {
        this(layer, rows, cols, config, policy, new ProjectionScratch());
    }

    /**
     * A projector whose working buffers come from {@code scratch}, shared with other projectors
     * that are used one at a time (see the class comment).
     *
     * @throws IllegalArgumentException if the shape is not positive, the rank exceeds min(rows, cols)
     *                                  or the policy or scratch is null
     */
    public Projector(String layer, long rows, long cols, ProjectorConfig config, RefreshPolicy policy,
            ProjectionScratch scratch) {
        if (rows < 1 || cols < 1 || rows > Integer.MAX_VALUE || cols > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("shape: layer " + layer + " must be a positive m×n matrix, got "
                    + rows + "×" + cols);
        }
        if (config.rank() > Math.min(rows, cols)) {
            throw new IllegalArgumentException("rank: must be <= min(m, n) = " + Math.min(rows, cols)
                    + " for layer " + layer + " of shape " + rows + "×" + cols + ", got " + config.rank());
        }
        if (policy == null) {
            throw new IllegalArgumentException("policy: must not be null");
        }
        if (scratch == null) {
            throw new IllegalArgumentException("scratch: must not be null");
        }
        this.layer = layer;
        this.rows = rows;
        this.cols = cols;
        this.config = config;
        this.side = config.side().resolve(rows, cols);
        this.rank = config.rank();
        this.policy = policy;
        this.basisMethod = config.basisMethod().resolve(rows, cols);
        this.solver = basisMethod == BasisMethod.EXACT ? new ExactSvd()
                : new RandomizedSvd(config.oversampling(), config.powerIterations(), config.seed());
        this.scratch = scratch;
        this.store = new BasisStore(rank, (int) side.basisDimension(rows, cols), config.basisBits(), scratch);
        this.maps = new SubspaceMaps(this, layer, rows, cols, config, side, store, scratch);
    }

    /** Recomputes the basis from this gradient if the policy says so at this step. */
    public Optional<SubspaceStats> refreshIfDue(long step, INDArray grad) {
        return policy.due(step) ? Optional.of(refresh(step, grad)) : Optional.empty();
    }

    /** Whether the refresh policy wants a new basis at this step. */
    public boolean due(long step) {
        return policy.due(step);
    }

    /**
     * Recomputes the basis from this gradient now, measures the subspace statistics against the
     * previous basis, tells the policy, and returns the statistics (with the policy's new gap):
     * {@link #propose} then {@link #accept}, so a refresh that fails changes nothing.
     */
    public SubspaceStats refresh(long step, INDArray grad) {
        try (BasisCandidate c = propose(step, grad)) {
            return accept(c);
        }
    }

    /**
     * Computes the basis of this gradient without changing the projector (its basis, policy and
     * solver state stay as they were, also when this throws); see {@link BasisCandidate}.
     *
     * @throws IllegalArgumentException for a gradient of the wrong shape or with NaN/Inf values, or
     *                                  when the solver fails or returns a non-finite basis
     */
    public BasisCandidate propose(long step, INDArray grad) {
        maps.checkGradient(grad);
        INDArray g32 = grad.dataType() == DataType.FLOAT && grad.ordering() == 'c' && !grad.isView()
                ? grad : grad.castTo(DataType.FLOAT).dup('c');
        long calls = solver.calls();
        INDArray fresh = null;
        try {
            double totalEnergy = SubspaceMeasures.squaredNorm(g32, layer);
            fresh = Nd4j.createUninitialized(DataType.FLOAT, rank, store.dimension());
            long t0 = System.nanoTime();
            float[] sigma;
            try {
                sigma = solver.solve(g32, side == Side.LEFT, fresh);
            } catch (ArithmeticException e) { // LAPACK refused (e.g. values that overflow its products)
                throw new IllegalArgumentException("the basis computation for layer " + layer + " failed on this gradient: "
                        + e.getMessage(), e);
            }
            double millis = (System.nanoTime() - t0) / 1e6;
            SubspaceMeasures.requireFinite(fresh, "the basis computed for layer " + layer);
            SignConvention.apply(fresh, store.isSet() ? store.basisT() : null); // signs independent of the LAPACK build
            double cosine = store.firstCosine(fresh); // fp32 first vectors, as computed
            float[] first = store.firstVector(fresh);
            QuantizedTensor codes = store.roundTrip(fresh); // what is kept is what is measured (INT4: the decoded basis)
            BasisCandidate c = new BasisCandidate(this, step, fresh, codes, first, cosine, sigma, totalEnergy, millis,
                    solver.calls());
            fresh = null;
            return c;
        } finally {
            solver.restoreCalls(calls); // the draw count advances when the basis is accepted
            if (fresh != null) {
                fresh.close();
            }
            if (g32 != grad) {
                g32.close();
            }
        }
    }

    /**
     * Makes a {@link #propose}d basis current: measures it against the previous basis (the overlap
     * of the bases as kept, INT4 decoded; the cosine of the first vectors as computed, in fp32, was
     * taken by {@link #propose}, {@link SubspaceStats#cosine}), tells the policy, advances the
     * solver's draw count; closes the candidate and returns the statistics with the policy's new gap.
     */
    public SubspaceStats accept(BasisCandidate c) {
        c.checkUsableBy(this);
        INDArray old = store.isSet() ? store.basisT() : null;
        double overlap = Double.NaN;
        if (old != null) {
            INDArray rotation = scratch.rotation(this, ++rotations, rank, new boolean[1]);
            Nd4j.gemm(c.basisT, old, rotation, false, true, 1.0, 0.0); // P_newᵀ P_old
            overlap = SubspaceMeasures.overlapFromRotation(rotation);
        }
        store.set(c.basisT, c.codes, c.first);
        maps.basisChanged();
        solver.restoreCalls(c.solverCalls);
        SubspaceStats stats = new SubspaceStats(c.step, layer, rank, c.cosine, overlap,
                SubspaceMeasures.energy(c.sigma, rank, c.totalEnergy), SubspaceMeasures.leading(c.sigma, 8),
                policy.gap(), c.millis);
        policy.onRefresh(stats);
        lastStats = stats.withGap(policy.gap());
        c.close();
        return lastStats;
    }

    /** Floats of this layer's candidate as one replica broadcasts it ({@link BasisCandidate#payloadFloats}). */
    public int payloadFloats() {
        return Math.toIntExact(BasisCandidate.payloadFloats(config.basisBits(), rank, store.dimension(),
                BasisCandidate.singularValuesSent(rank)));
    }

    /**
     * Writes a {@link #propose}d candidate into {@code payload} ({@link #payloadFloats} long, zeros
     * elsewhere) for the other replicas (docs/design.md §3.9); does not close it. Every replica, this
     * one too, then uses {@link #candidate} of the broadcast copy.
     */
    public void writePayload(BasisCandidate c, float[] payload) {
        c.checkUsableBy(this);
        checkPayload(payload);
        CandidatePayload.write(c, store, rank, payload);
    }

    /**
     * The candidate a broadcast {@link #writePayload} describes, for the gradient of {@code step}:
     * on every replica the same bits, to {@link #project} with and {@link #accept}.
     *
     * @throws IllegalArgumentException naming this layer when the payload says the owner's
     *                                  computation failed (an all-zero payload) or holds a bad basis
     */
    public BasisCandidate candidate(long step, float[] payload) {
        checkPayload(payload);
        return CandidatePayload.read(this, step, store, rank, payload);
    }

    private void checkPayload(float[] payload) {
        if (payload.length != payloadFloats()) {
            throw new IllegalArgumentException("basis payload of layer " + layer + ": expected " + payloadFloats()
                    + " floats, got " + payload.length);
        }
    }

    /**
     * R = Pᵀ G (LEFT, r×n) or G P (RIGHT, m×r), in a scratch buffer that the next projection by
     * this or another projector sharing the scratch overwrites (same data type as {@code grad}).
     *
     * @throws IllegalArgumentException for a gradient of the wrong shape or with NaN/Inf values
     * @throws IllegalStateException    before the first refresh
     */
    public INDArray project(INDArray grad) {
        return project(grad, null);
    }

    /** As {@link #project(INDArray)}, with a {@link #propose}d basis not yet accepted (null: the current one). */
    public INDArray project(INDArray grad, BasisCandidate candidate) {
        maps.checkGradient(grad);
        if (candidate != null) {
            candidate.checkUsableBy(this);
        }
        return maps.project(grad, candidate == null ? null : candidate.basisT);
    }

    /**
     * Writes α·(P N) (LEFT) or α·(N Pᵀ) (RIGHT) into {@code out} (m×n, caller-owned, e.g. the
     * gradient buffer that is no longer needed); {@code lowRankUpdate} has the shape of
     * {@link #project}'s result.
     */
    public void projectBack(INDArray lowRankUpdate, INDArray out) {
        maps.projectBack(lowRankUpdate, out);
    }

    /**
     * C = P_newᵀ P_old (r×r, fp32) from the last refresh, for carrying optimizer moments into the
     * new basis: LEFT moments (r×n) rotate as M' = C M, RIGHT moments (m×r) as M' = M Cᵀ
     * (= M P_oldᵀ P_new); {@link #rotate} does exactly that. ‖C‖²_F / r is the overlap statistic.
     * It lives in the scratch: read it right after the refresh, before another projector sharing
     * the scratch refreshes.
     *
     * @throws IllegalStateException before the second refresh, or once another projector's
     *                               refresh has reused the scratch's rotation buffer
     */
    public INDArray rotation() {
        if (rotations == 0) {
            throw new IllegalStateException("rotation: layer " + layer + " has not been refreshed twice yet");
        }
        if (!scratch.holdsRotation(this, rotations)) {
            throw new IllegalStateException("rotation: layer " + layer
                    + "'s rotation was overwritten by another layer's refresh in the shared scratch");
        }
        return scratch.rotation(this, rotations, rank, new boolean[1]);
    }

    /** Whether {@link #rotation()} is defined (at least two refreshes, and the scratch still holds it). */
    public boolean hasRotation() {
        return rotations > 0 && scratch.holdsRotation(this, rotations);
    }

    /** The solver this projector uses: the configured method, with {@code auto} resolved for its shape. */
    public BasisMethod basisMethod() {
        return basisMethod;
    }

    /** out = C M (LEFT) or M Cᵀ (RIGHT) with C = {@link #rotation()}; {@code out} must not be {@code moment}. */
    public void rotate(INDArray moment, INDArray out) {
        maps.rotate(rotation(), moment, out);
    }

    /**
     * The current Pᵀ (r × m for LEFT, r × n for RIGHT), fp32: do not modify. For an INT4 basis it is
     * the decoded copy in the scratch, valid until another projector sharing the scratch uses its basis.
     */
    public INDArray basisTransposed() {
        maps.requireBasis();
        return store.basisT();
    }

    public boolean hasBasis() {
        return store.isSet();
    }

    /** Shape of the projected gradient: {r, n} for LEFT, {m, r} for RIGHT. */
    public long[] projectedShape() {
        return maps.projectedShape();
    }

    /** LEFT or RIGHT (the resolved side). */
    public Side side() {
        return side;
    }

    public int rank() {
        return rank;
    }

    public String layer() {
        return layer;
    }

    public ProjectorConfig config() {
        return config;
    }

    public RefreshPolicy policy() {
        return policy;
    }

    /** Statistics of the last refresh, if any. */
    public Optional<SubspaceStats> lastStats() {
        return Optional.ofNullable(lastStats);
    }

    /**
     * What a checkpoint needs besides {@link #basisParts()} to continue exactly: whether a basis
     * is set, the refresh policy's state and the randomized solver's call count (its next draw).
     */
    public Map<String, Object> state() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("has_basis", store.isSet());
        s.put("policy", policy.state());
        s.put("solver_calls", solver.calls());
        return s;
    }

    /**
     * The part of an INT4 basis's {@link #basisParts()} that holds its fp32 first vector; a state
     * saved before it existed may lack it ({@link #restore}).
     */
    public static final String FIRST_VECTOR = BasisStore.FIRST_VECTOR;

    /**
     * The stored basis as named read-only buffers (fp32 {@code values}, or INT4 {@code codes},
     * {@code scales}, {@code zero_points} and {@value #FIRST_VECTOR}).
     */
    public Map<String, Buffer> basisParts() {
        return store.parts();
    }

    /**
     * Restores a {@link #state()} and, when it had a basis, the {@link #basisParts()} saved with
     * it (null otherwise; {@link #FIRST_VECTOR} may be absent, its decoded codes then stand in).
     * IllegalArgumentException naming this layer for a state of another policy, shape or format;
     * the basis is then unusable until the next refresh.
     */
    public void restore(Map<String, ?> state, Map<String, ? extends Buffer> basis) {
        try {
            if (!(state.get("policy") instanceof Map<?, ?> p)) {
                throw new IllegalArgumentException("missing policy state");
            }
            @SuppressWarnings("unchecked")
            Map<String, ?> policyState = (Map<String, ?>) p;
            policy.restore(policyState);
            if (!(state.get("solver_calls") instanceof Number calls)) {
                throw new IllegalArgumentException("missing solver_calls");
            }
            solver.restoreCalls(calls.longValue());
            if (Boolean.TRUE.equals(state.get("has_basis"))) {
                if (basis == null) {
                    throw new IllegalArgumentException("the state has a basis but none was given");
                }
                store.load(basis);
                maps.basisChanged();
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("layer " + layer + ": " + e.getMessage(), e);
        }
    }

    /** Bytes of the stored basis (codes, scales and zero points for INT4). */
    public long basisBytes() {
        return store.storedBytes();
    }

    BasisStore storeForTest() {
        return store;
    }

    BasisSolver solverForTest() {
        return solver;
    }
}
