package io.galore4j.galore;

import io.galore4j.quant.RoundingRng;
import io.galore4j.quant.ParallelRuns;
import io.galore4j.quant.Staging;
import java.nio.FloatBuffer;

/**
 * The elementwise part of one update, fused block by block: decode the moments of a chunk,
 * apply the rule, encode them again, hand the chunk's update to a sink (the weight, or back into
 * the projected-gradient buffer). One Java loop per chunk (docs/design.md §5).
 *
 * <ul>
 *   <li>adamw (Kingma and Ba 2015; Loshchilov and Hutter 2019): M ← β1 M + (1−β1) G,
 *       V ← β2 V + (1−β2) G², M̂ = M/(1−β1ᵗ), V̂ = V/(1−β2ᵗ), N = M̂/(√V̂ + ε);</li>
 *   <li>sgd (heavy ball, PyTorch convention): B ← μ B + G, N = B;</li>
 *   <li>lion (Chen et al. 2023, Alg. 2): N = sign(β1 M + (1−β1) G), M ← β2 M + (1−β2) G.</li>
 * </ul>
 * G = (micro-batch gradient + accumulated) × gradScale.
 */
final class MomentStep {
    interface Sink {
        /** Receives the update N of elements [start, start + len) in {@code update[0 .. len)}. */
        void accept(int start, int len, float[] update);
    }

    /**
     * From this many elements on, the chunks of one update run on the fork-join common pool (and
     * the calling thread) when every moment codec encodes each block alone (not the log codecs,
     * whose stochastic rounding follows the order of the calls): chunks are independent, so the
     * result is the same bit for bit as in order.
     */
    static final int PARALLEL_MIN_ELEMENTS = 1 << 18;

    /** A chunk's gradient (then update), accumulated gradient, first and second moment ({@link Staging}). */
    private static final Staging.Slot<float[]> GRADIENT = Staging.floats();
    private static final Staging.Slot<float[]> ACCUMULATED = Staging.floats();
    private static final Staging.Slot<float[]> FIRST = Staging.floats();
    private static final Staging.Slot<float[]> SECOND = Staging.floats();

    /** Whole-tensor moments and update (a rank-1 codec), grown on demand and dropped by {@link #trim}. */
    private float[] mb = new float[0];
    private float[] vb = new float[0];
    private float[] ub = new float[0];
    private int parallelMin = PARALLEL_MIN_ELEMENTS;

    /** For tests: the size from which chunks run in parallel. */
    void parallelMinElements(int n) {
        parallelMin = n;
    }

    /**
     * Applies one update. The caller has checked the gradient with {@link #requireFinite} first:
     * chunks are applied as they are computed, so only that check keeps a bad gradient from
     * changing part of the parameter.
     *
     * @param t   the step number of this update, 1-based (bias correction over the parameter's own count)
     * @param acc accumulated gradient (same layout as g) or null
     */
    void run(ParamSettings p, UpdateRule rule, long t, MomentState m, MomentState v, FloatBuffer g, int gOff,
             Accumulation acc, float gradScale, int n, Sink sink, RoundingRng rng) {
        boolean ranged = m.ranged() && (v == null || v.ranged());
        Chunk step = new Chunk(p, rule, t, m, v, g, gOff, acc, gradScale, sink, rng);
        boolean cores = n >= parallelMin && Runtime.getRuntime().availableProcessors() > 1;
        if (!ranged) {
            // a rank-1 codec: decode and encode the whole tensor (each in parallel inside the
            // codec), and run the rule, then the sink, on chunks of it, which are independent.
            boolean second = step.usesSecondMoment();
            ensure(n, second);
            m.read(0, n, mb);
            if (second) {
                v.read(0, n, vb);
            }
            ParallelRuns.forEach(n, Chunks.SIZE, cores, (start, len) -> {
                float[][] b = chunkBuffers();
                System.arraycopy(mb, start, b[2], 0, len); // to offset 0, where C2 vectorizes the rule
                if (second) {
                    System.arraycopy(vb, start, b[3], 0, len);
                }
                step.update(len, start, b[0], b[1], b[2], b[3]);
                System.arraycopy(b[2], 0, mb, start, len);
                if (second) {
                    System.arraycopy(b[3], 0, vb, start, len);
                }
                System.arraycopy(b[0], 0, ub, start, len);
            });
            if (second) {
                v.write(0, n, vb, rng);
            }
            m.write(0, n, mb, rng);
            ParallelRuns.forEach(n, Chunks.SIZE, cores, (start, len) -> {
                float[] u = GRADIENT.get(Chunks.SIZE);
                System.arraycopy(ub, start, u, 0, len);
                sink.accept(start, len, u);
            });
            return;
        }
        boolean parallel = cores && !m.stochastic() && (v == null || !v.stochastic());
        ParallelRuns.forEach(n, Chunks.SIZE, parallel, (start, len) -> {
            float[][] b = chunkBuffers();
            step.apply(start, len, b[0], b[1], b[2], b[3]);
        });
    }

    /** One update's constants and the work on one chunk of it, with the caller's buffers. */
    private static final class Chunk {
        private final UpdateRule rule;
        private final MomentState m;
        private final MomentState v;
        private final FloatBuffer g;
        private final int gOff;
        private final Accumulation acc;
        private final float gradScale;
        private final Sink sink;
        private final RoundingRng rng;
        private final float b1;
        private final float b2;
        private final float c1;
        private final float c2;
        private final float invBc1;
        private final float invSqrtBc2;
        private final float eps;
        private final float mu;

        Chunk(ParamSettings p, UpdateRule rule, long t, MomentState m, MomentState v, FloatBuffer g, int gOff,
                Accumulation acc, float gradScale, Sink sink, RoundingRng rng) {
            this.rule = rule;
            this.m = m;
            this.v = v;
            this.g = g;
            this.gOff = gOff;
            this.acc = acc;
            this.gradScale = gradScale;
            this.sink = sink;
            this.rng = rng;
            b1 = (float) p.beta1();
            b2 = (float) p.beta2();
            c1 = 1 - b1;
            c2 = 1 - b2;
            double bc1 = 1 - Math.pow(p.beta1(), t);
            double bc2 = 1 - Math.pow(p.beta2(), t);
            invBc1 = (float) (1 / bc1);
            invSqrtBc2 = (float) (1 / Math.sqrt(bc2));
            eps = (float) p.eps();
            mu = (float) p.momentum();
        }

        boolean usesSecondMoment() {
            return rule == UpdateRule.ADAMW;
        }

        /** Reads the moments of a chunk, applies the rule, writes them back, hands the update to the sink. */
        void apply(int start, int len, float[] gr, float[] ab, float[] mb, float[] vb) {
            m.read(start, len, mb);
            if (usesSecondMoment()) {
                v.read(start, len, vb);
            }
            update(len, start, gr, ab, mb, vb);
            if (usesSecondMoment()) {
                v.write(start, len, vb, rng);
            }
            m.write(start, len, mb, rng);
            sink.accept(start, len, gr);
        }

        /**
         * The gradient of elements [start, start + len) (plus the accumulated one, scaled) into
         * gr[0 .. len), then the rule on the moments mb, vb [0 .. len) in place, leaving the
         * update N in gr.
         */
        void update(int len, int start, float[] gr, float[] ab, float[] mb, float[] vb) {
            gradient(g, gOff, acc, gradScale, start, len, gr, ab);
            switch (rule) {
                case ADAMW -> {
                    for (int i = 0; i < len; i++) {
                        float gi = gr[i];
                        float mi = b1 * mb[i] + c1 * gi;
                        float vi = b2 * vb[i] + c2 * gi * gi;
                        mb[i] = mi;
                        vb[i] = vi;
                        // M̂/(√V̂ + ε) with M̂ = M/(1−β1ᵗ), √V̂ = √V/√(1−β2ᵗ)
                        gr[i] = mi * invBc1 / ((float) Math.sqrt(vi) * invSqrtBc2 + eps);
                    }
                }
                case SGD -> {
                    for (int i = 0; i < len; i++) {
                        float bi = mu * mb[i] + gr[i];
                        mb[i] = bi;
                        gr[i] = bi;
                    }
                }
                case LION -> {
                    for (int i = 0; i < len; i++) {
                        float gi = gr[i];
                        float ci = b1 * mb[i] + c1 * gi;
                        mb[i] = b2 * mb[i] + c2 * gi;
                        gr[i] = Math.signum(ci);
                    }
                }
                default -> throw new IllegalStateException("unknown rule " + rule);
            }
        }
    }

    /**
     * G of elements [start, start + len) into {@code gr[0 .. len)}: the micro-batch gradient plus
     * the accumulated one (read through {@code ab}), times gradScale.
     */
    private static void gradient(FloatBuffer g, int gOff, Accumulation acc, float gradScale, int start, int len,
            float[] gr, float[] ab) {
        g.get(gOff + start, gr, 0, len);
        if (acc != null) {
            acc.read(start, len, ab);
            for (int i = 0; i < len; i++) {
                gr[i] += ab[i];
            }
        }
        if (gradScale != 1f) {
            for (int i = 0; i < len; i++) {
                gr[i] *= gradScale;
            }
        }
    }

    /**
     * Rejects an update before anything changes: throws IllegalArgumentException, starting with
     * {@code what} and naming the first offending element, if the gradient the rule would see,
     * G = (g + acc) × gradScale computed as {@link #run} computes it, holds a NaN or an infinity,
     * or, for adamw, a value whose (1 − β2)·G² overflows fp32 (the second moment would become
     * infinite). {@link #run} walks the update in chunks, applying each as it goes; with this pass
     * over the whole gradient first, no chunk can fail on the gradient half way, so a rejected
     * update leaves weights, moments, the accumulated gradient and the generators as they were.
     * The per-chunk maxima of |G| are computed in parallel where {@link #run} would be.
     */
    void requireFinite(String what, ParamSettings p, UpdateRule rule, FloatBuffer g, int gOff, Accumulation acc,
            float gradScale, int n) {
        float[] max = new float[(n + Chunks.SIZE - 1) / Chunks.SIZE];
        boolean cores = n >= parallelMin && Runtime.getRuntime().availableProcessors() > 1;
        ParallelRuns.forEach(n, Chunks.SIZE, cores, (start, len) -> {
            float[][] b = chunkBuffers();
            gradient(g, gOff, acc, gradScale, start, len, b[0], b[1]);
            max[start / Chunks.SIZE] = Chunks.maxAbs(b[0], len);
        });
        float c2 = 1 - (float) p.beta2(); // as the rule computes (1 − β2)·G·G
        boolean adam = rule == UpdateRule.ADAMW;
        for (int k = 0; k < max.length; k++) {
            // (1 − β2)·|G|·|G| grows with |G| (float rounding is monotone): the chunk's maximum decides
            if (max[k] <= Float.MAX_VALUE && !(adam && Float.isInfinite(c2 * max[k] * max[k]))) {
                continue;
            }
            int start = k * Chunks.SIZE;
            int len = Math.min(Chunks.SIZE, n - start);
            float[][] b = chunkBuffers();
            gradient(g, gOff, acc, gradScale, start, len, b[0], b[1]);
            for (int i = 0; i < len; i++) {
                float x = b[0][i];
                if (!Float.isFinite(x) || adam && Float.isInfinite(c2 * x * x)) {
                    throw new IllegalArgumentException(what + ": " + (Float.isFinite(x) ? "value " + x
                            + " would overflow the second moment ((1 − β2)·G² beyond fp32)" : "non-finite value " + x)
                            + " at element " + (start + i)
                            + (acc != null || gradScale != 1f ? " of (gradient + accumulated) × gradScale" : "")
                            + "; the update was rejected and nothing was changed");
                }
            }
        }
    }

    /** This thread's chunk buffers: gradient (then update), accumulated gradient, first and second moment. */
    private static float[][] chunkBuffers() {
        return new float[][] {GRADIENT.get(Chunks.SIZE), ACCUMULATED.get(Chunks.SIZE), FIRST.get(Chunks.SIZE),
            SECOND.get(Chunks.SIZE)};
    }

    private void ensure(int size, boolean second) {
        if (mb.length < size) {
            mb = new float[size];
            ub = new float[size];
        }
        if (second && vb.length < size) {
            vb = new float[size];
        }
    }

    /** Drops the whole-tensor moment arrays (after a rank-1 codec used them). */
    void trim() {
        mb = new float[0];
        vb = new float[0];
        ub = new float[0];
    }
}
