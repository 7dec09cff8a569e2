package io.galore4j.galore.qzo;

import java.util.function.DoubleSupplier;

/**
 * QZO, zeroth-order fine-tuning of a quantized model (docs/design.md §3; Shang et al. 2025,
 * "Fine-tuning Quantized Neural Networks with Zeroth-order Optimization"), with the perturbation
 * and the step taken relative to each scale. Per step:
 * <ol>
 *   <li>draw a step seed s (SplitMix64 over one long of state, so a run is reproducible from its seed);
 *   <li>L₊ = L(Δ ⊙ (1 + εz)), L₋ = L(Δ ⊙ (1 − εz)), with z ~ N(0, I) regenerated from s
 *       ({@link Perturbation}): every scale moves by the same fraction ε·z_g of itself, whatever its size;
 *   <li>d = clip((L₊ − L₋) / (2ε), −C, C), the clipped two-point estimate of zᵀ(Δ ⊙ ∇_Δ L), the
 *       directional derivative with respect to u = log Δ (∂L/∂u_g = Δ_g·∂L/∂Δ_g, and
 *       Δ ⊙ (1 ± εz) = exp(u ± εz) up to O(ε²));
 *   <li>Δ ← max(Δ ⊙ (1 − η d z), Δ_min), z regenerated once more: to first order one step of size η
 *       on log Δ along the estimate d·z, so each scale changes by the fraction −η·d·z_g.
 * </ol>
 * An absolute perturbation Δ ± εz would move a scale of 1e-4 and one of 1e-2 by the same amount;
 * relative to Δ, ε, η and C mean the same for every group. The loss is a {@link DoubleSupplier}
 * that runs the model's forward pass on the step's batch at whatever point {@link QzoWeights}
 * decodes. No gradient and no optimizer state exist: memory is the model's inference memory plus
 * one decoded matrix per shape.
 */
public final class Qzo {
    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private final QzoWeights weights;
    private final QzoSettings settings;
    private long seedState;

    /**
     * One step's figures: its seed, L₊, L₋, the raw estimate (L₊ − L₋)/(2ε), the clipped d
     * (NaN when a loss was not finite: then Δ was left unchanged), and how many scales hit the floor.
     */
    public record Step(long seed, double lossPlus, double lossMinus, double estimate, double derivative, long floored) {
        /** (L₊ + L₋)/2, the loss at Δ up to O(ε²). */
        public double loss() {
            return 0.5 * (lossPlus + lossMinus);
        }

        public boolean skipped() {
            return Double.isNaN(derivative);
        }
    }

    public Qzo(QzoWeights weights, QzoSettings settings, long seed) {
        this.weights = java.util.Objects.requireNonNull(weights, "weights");
        this.settings = java.util.Objects.requireNonNull(settings, "settings");
        this.seedState = seed;
    }

    /** One QZO step with step size {@code lr} (η) on the loss {@code loss} evaluates. */
    public Step step(DoubleSupplier loss, double lr) {
        long seed = nextSeed();
        double[] l = twoPoint(seed, loss);
        double estimate = (l[0] - l[1]) / (2 * settings.eps());
        if (!Double.isFinite(estimate)) {
            return new Step(seed, l[0], l[1], estimate, Double.NaN, 0);
        }
        double d = clip(estimate, settings.clip());
        long floored = weights.update(seed, lr * d, settings.minScale());
        return new Step(seed, l[0], l[1], estimate, d, floored);
    }

    /**
     * The unclipped two-point estimate (L(Δ ⊙ (1 + εz)) − L(Δ ⊙ (1 − εz))) / (2ε) along the draws of
     * {@code seed}, leaving Δ unchanged: the central difference of L along the line Δ ⊙ (1 + tz),
     * whose slope at t = 0 is zᵀ(Δ ⊙ ∇_Δ L) (exact for a loss quadratic in Δ, error O(ε²) otherwise).
     */
    public double estimate(long seed, DoubleSupplier loss) {
        double[] l = twoPoint(seed, loss);
        return (l[0] - l[1]) / (2 * settings.eps());
    }

    private double[] twoPoint(long seed, DoubleSupplier loss) {
        try {
            weights.perturb(seed, settings.eps());
            double plus = loss.getAsDouble();
            weights.perturb(seed, -settings.eps());
            double minus = loss.getAsDouble();
            return new double[] {plus, minus};
        } finally {
            weights.perturb(seed, 0); // outside a step the model is Δ itself
        }
    }

    /** clip(v, −c, c); NaN stays NaN. */
    public static double clip(double v, double c) {
        return Math.max(-c, Math.min(c, v));
    }

    /** The seed generator's state, to continue the same sequence of steps. */
    public long seedState() {
        return seedState;
    }

    private long nextSeed() {
        return Perturbation.mix(seedState += GOLDEN_GAMMA);
    }
}
