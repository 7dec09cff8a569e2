package io.galore4j.galore;

import io.galore4j.projection.BasisCandidate;
import io.galore4j.projection.Projector;
import io.galore4j.projection.ProjectionScratch;
import io.galore4j.projection.ProjectorConfig;
import io.galore4j.projection.RefreshPolicy;
import io.galore4j.projection.Side;
import io.galore4j.projection.SubspaceStats;
import io.galore4j.quant.Moment;
import io.galore4j.quant.RoundingRng;
import io.galore4j.quant.Staging;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A 2-D weight updated by Adam in a rank-r subspace (GaLore, Zhao et al. 2024, Alg. 2; docs/design.md §3):
 * <pre>
 *   R = project(G)                 (Pᵀ G, r×n, or G P, m×r)
 *   M, V ← Adam moments of R       (decoded/encoded by the state codecs; bias correction over t)
 *   N = M̂ / (√V̂ + ε)
 *   ΔW = projectBack(N) = α·P N  or  α·N Pᵀ
 *   W ← W − η(ΔW + λW)            (decoupled weight decay on the full weight)
 * </pre>
 * Refresh: at the first gradient of a step (accumulate or update) the refresh policy decides
 * whether to recompute the basis from that gradient. With gradient accumulation all
 * micro-batches of a step are then projected into the same basis, and the projected gradients
 * (R is linear in G) are summed in an R-shaped buffer. A gradient is accepted or rejected as a
 * whole: the new basis is computed aside ({@link Projector#propose}), the gradient projected with
 * it and checked ({@link MomentStep#requireFinite}), and only then are the basis, its refresh
 * count and the step's bookkeeping committed and the moments updated; a rejected gradient (NaN,
 * infinity, a failed basis computation) changes nothing, and the next one starts the step afresh.
 *
 * <p>{@code on_refresh: keep} leaves M, V as they are (the reference). {@code rotate} carries
 * the first moment into the new basis, M' = C M (left) or M Cᵀ (right) with C = P_newᵀ P_old,
 * and transports the second moment with the squared rotation, V' = (C∘C) V (left) or V (C∘C)ᵀ
 * (right): the second moment of a rotated vector if its coordinates are uncorrelated
 * (E[(Cx)ᵢ²] = Σⱼ Cᵢⱼ² E[xⱼ²]), which keeps V ≥ 0 and its scale.
 *
 * <p>{@code residual: fira} adds the gradient outside the subspace ({@link FiraResidual}), which
 * needs the step's whole gradient at the update: accumulation then sums the full gradient (as
 * APOLLO's does), and the basis is refreshed at the update from the step's summed gradient;
 * data-parallel replicas exchange that full gradient ({@link Exchange#meanFull}) instead of R, and
 * the owner's basis of the mean is broadcast as for GaLore.
 */
final class GaloreParam extends ParamState {
    /** Fira: this thread's array for reading the accumulated full gradient. */
    private static final Staging.Slot<float[]> ACCUMULATED = Staging.floats();

    private final Projector projector;
    private final MomentStep kernel;
    private final float[] chunk = new float[Chunks.SIZE];
    private long refreshes;
    /** Fira's residual, or null ({@code residual: none}). */
    private final FiraResidual residual;
    /** Data parallel: the replica that computes this parameter's bases (its GaLore ordinal mod N). */
    int owner;

    GaloreParam(String name, long[] shape, ParamSettings s, WeightStore weight, MomentStep kernel,
                int oversampling, int powerIterations, long seed, ProjectionScratch scratch) {
        super(name, shape, s, weight);
        ProjectorConfig config = new ProjectorConfig(s.rank(), s.scale(), s.side(), s.svd(),
                oversampling, powerIterations, seed, s.basisBits());
        this.projector = new Projector(name, shape[0], shape[1], config, RefreshPolicy.of(s.refresh(), s.refreshParams()),
                scratch);
        scratch.reserve(shape[0], shape[1], config);
        long[] r = projector.projectedShape();
        this.m = new MomentState(s.mCodec(), Moment.FIRST, (int) r[0], (int) r[1]);
        this.v = new MomentState(s.vCodec(), Moment.SECOND, (int) r[0], (int) r[1]);
        this.kernel = kernel;
        this.residual = s.fira() ? new FiraResidual(projector.side(), shape[0], shape[1]) : null;
    }

    /**
     * At the step's first gradient, if the policy wants one, the basis of this gradient (with
     * replicas: of its mean over them, computed by the owner) (not yet in use); else null.
     */
    private BasisCandidate proposeIfDue(INDArray grad) {
        if ((seenThisStep && residual == null) || !projector.due(steps)) { // Fira proposes at the update only
            return null;
        }
        if (exchange == null) {
            return projector.propose(steps, grad);
        }
        return residual == null ? exchange.sharedBasis(this, owner, steps, grad)
                : exchange.broadcastBasis(this, owner, steps, grad); // grad is already the mean
    }

    /**
     * Once the gradient is accepted: makes the step's new basis (if any) current, counting it and
     * carrying the moments into it when configured, and marks the step as seen.
     */
    private void commit(BasisCandidate fresh, RoundingRng rng, List<SubspaceStats> events) {
        if (fresh != null) {
            boolean hadBasis = projector.hasBasis();
            events.add(projector.accept(fresh));
            refreshes++;
            if (hadBasis && settings.onRefresh() == OnRefresh.ROTATE) {
                rotateMoments(rng);
            }
        }
        seenThisStep = true;
    }

    @Override
    void accumulate(INDArray grad, RoundingRng rng, List<SubspaceStats> events) {
        if (residual != null) { // the full gradient; the basis waits for the update
            addToAccumulation("gradient of " + name, grad.data().asNioFloat(), (int) grad.offset(), weight.length());
            seenThisStep = true;
            return;
        }
        try (BasisCandidate fresh = proposeIfDue(grad)) {
            INDArray r = project(grad, fresh);
            // with replicas a non-finite micro-batch poisons this replica's sum, and the basis (the
            // same on every replica) is committed: see ParamState#addToAccumulation
            if (r == null) {
                poisoned = true;
            } else {
                addToAccumulation("projected gradient of " + name, r.data().asNioFloat(), (int) r.offset(), (int) r.length());
            }
            commit(fresh, rng, events);
        }
    }

    @Override
    void update(INDArray grad, double lr, double gradScale, RoundingRng rng, List<SubspaceStats> events) {
        INDArray r;
        FloatBuffer rb;
        int rOff;
        Accumulation a = acc;
        double squares = 0;
        if (residual != null) { // the step's whole gradient in the gradient buffer (see the class comment)
            a = null;
            squares = wholeGradient(grad);
        }
        try (BasisCandidate fresh = proposeIfDue(grad)) {
            r = project(grad, fresh);
            if (exchange != null && residual == null) { // R ← mean over the replicas of (R + accumulated), which then holds it all
                float[] mean = exchange.meanProjected(this, r);
                squares = Exchange.squares(mean, 0, mean.length);
                if (r == null) { // not finite here, so neither is the mean: rejected as on every replica
                    kernel.requireFinite("projected gradient of " + name, settings, UpdateRule.ADAMW, FloatBuffer.wrap(mean),
                            0, null, (float) gradScale, mean.length);
                    throw new IllegalStateException("a non-finite mean was accepted");
                }
                r.data().asNioFloat().put((int) r.offset(), mean);
                a = null;
            }
            rb = r.data().asNioFloat();
            rOff = (int) r.offset();
            kernel.requireFinite("projected gradient of " + name, settings, UpdateRule.ADAMW, rb, rOff, a, (float) gradScale,
                    (int) r.length());
            commit(fresh, rng, events);
            if (exchange != null) {
                exchange.accepted(squares);
            }
        }
        if (residual != null) { // grad ← G − P R while R is still there
            residual.subtract(grad, r, projector.basisTransposed(), gradScale);
        }
        kernel.run(settings, UpdateRule.ADAMW, steps + 1, m, v, rb, rOff, a, (float) gradScale, (int) r.length(),
                (start, len, u) -> rb.put(rOff + start, u, 0, len), rng);
        if (residual == null) {
            projector.projectBack(r, grad); // ΔW = α·(P N or N Pᵀ) into the gradient buffer
        } else {
            residual.finish(grad, r, projector.basisTransposed(), settings.scale(), gradScale); // α·P N + limited S
        }
        FloatBuffer g = grad.data().asNioFloat();
        int gOff = (int) grad.offset();
        int n = weight.length();
        double wd = settings.weightDecay();
        for (int start = 0; start < n; start += Chunks.SIZE) {
            int len = Math.min(Chunks.SIZE, n - start);
            g.get(gOff + start, chunk, 0, len);
            weight.applyChunk(start, len, chunk, lr, wd, g, gOff);
        }
        weight.finishUpdate(g, gOff);
        discardAccumulation();
        steps++;
    }

    /**
     * Fira: grad ← grad + the accumulated micro-batches, or with replicas the mean over them of
     * that sum (checked: a mean that is not finite is rejected on every replica alike); returns
     * the squared norm of what was exchanged (0 in a single process).
     */
    private double wholeGradient(INDArray grad) {
        FloatBuffer g = grad.data().asNioFloat();
        int gOff = (int) grad.offset();
        if (exchange == null) {
            if (acc != null) {
                fold(g, gOff, acc, 1.0, chunk, ACCUMULATED.get(Chunks.SIZE));
            }
            return 0;
        }
        double squares = exchange.meanFull(this, g, gOff);
        kernel.requireFinite("gradient of " + name, settings, UpdateRule.ADAMW, g, gOff, null, 1f, weight.length());
        return squares;
    }

    /**
     * R of this gradient; with replicas, null when it is not finite on this replica (which then
     * sends NaN, so that every replica rejects the step's sum alike).
     */
    private INDArray project(INDArray grad, BasisCandidate fresh) {
        try {
            return projector.project(grad, fresh);
        } catch (IllegalArgumentException e) {
            if (exchange == null || residual != null) { // Fira projects the mean: the same on every replica
                throw e;
            }
            return null;
        }
    }

    /** M' = C M / M Cᵀ and V' = (C∘C) V / V (C∘C)ᵀ, C = P_newᵀ P_old (see the class comment). */
    private void rotateMoments(RoundingRng rng) {
        long[] shape = projector.projectedShape();
        int n = (int) (shape[0] * shape[1]);
        INDArray c = projector.rotation();
        try (INDArray c2 = c.mul(c); INDArray a = Nd4j.createUninitialized(DataType.FLOAT, shape);
             INDArray b = Nd4j.createUninitialized(DataType.FLOAT, shape)) {
            float[] host = new float[n];
            m.read(0, n, host);
            a.data().asNioFloat().put((int) a.offset(), host, 0, n);
            projector.rotate(a, b);
            b.data().asNioFloat().get((int) b.offset(), host, 0, n);
            m.write(0, n, host, rng);
            v.read(0, n, host);
            a.data().asNioFloat().put((int) a.offset(), host, 0, n);
            if (projector.side() == Side.LEFT) {
                Nd4j.gemm(c2, a, b, false, false, 1.0, 0.0);
            } else {
                Nd4j.gemm(a, c2, b, false, true, 1.0, 0.0);
            }
            b.data().asNioFloat().get((int) b.offset(), host, 0, n);
            for (int i = 0; i < n; i++) {
                host[i] = Math.max(host[i], 0f);
            }
            v.write(0, n, host, rng);
        }
    }

    @Override
    Map<String, Object> save(OptimizerState.Sink sink) {
        Map<String, Object> s = super.save(sink);
        s.put("refreshes", refreshes);
        Map<String, Object> p = projector.state();
        s.put("projector", p);
        if (Boolean.TRUE.equals(p.get("has_basis"))) {
            put(sink, "basis", projector.basisParts());
        }
        if (residual != null) {
            s.put("residual_limiter", residual.state());
        }
        return s;
    }

    @Override
    void load(Map<String, ?> s, OptimizerState.Source source, Set<String> used) {
        super.load(s, source, used);
        if (!(s.get("refreshes") instanceof Number r) || r.longValue() < 0
                || !(s.get("projector") instanceof Map<?, ?> p)) {
            throw new IllegalArgumentException("refreshes and projector state are missing");
        }
        @SuppressWarnings("unchecked")
        Map<String, ?> projectorState = (Map<String, ?>) p;
        Map<String, java.nio.Buffer> basis = null;
        if (Boolean.TRUE.equals(projectorState.get("has_basis"))) {
            Set<String> parts = new java.util.LinkedHashSet<>(projector.basisParts().keySet());
            if (source.get(name + "/basis." + Projector.FIRST_VECTOR) == null) {
                parts.remove(Projector.FIRST_VECTOR); // an INT4 basis saved before it was kept (the projector decodes it)
            }
            basis = get(source, "basis", parts, used);
        }
        if (residual != null) {
            if (!(s.get("residual_limiter") instanceof Map<?, ?> limiter)) {
                throw new IllegalArgumentException("the residual's norm-growth limiter state is missing");
            }
            @SuppressWarnings("unchecked")
            Map<String, ?> l = (Map<String, ?>) limiter;
            residual.restore(l);
        }
        projector.restore(projectorState, basis);
        refreshes = r.longValue();
    }

    long svdCount() {
        return refreshes;
    }

    @Override
    long basisBytes() {
        return projector.basisBytes();
    }

    Projector projector() {
        return projector;
    }
}
