package io.galore4j.galore.qzo;

/**
 * The settings of QZO fine-tuning (docs/design.md §3), checked at construction; a bad value is an
 * IllegalArgumentException naming its configuration key ({@code qzo.*}).
 *
 * @param eps       ε, the relative perturbation of the two-point estimate L(Δ ⊙ (1 ± εz)) (in (0, 1))
 * @param clip      C, the bound of the clipped directional derivative d ∈ [−C, C], a derivative
 *                  with respect to log Δ (> 0)
 * @param lr        η, the step size of Δ ← Δ ⊙ (1 − η d z), a step on log Δ (> 0)
 * @param minScale  the floor of every scale after an update, Δ ← max(…, minScale) (> 0)
 * @param bits      code width of the frozen weights: 4 or 8
 * @param groupSize elements per scale (> 0; even for INT4)
 */
public record QzoSettings(double eps, double clip, double lr, double minScale, int bits, int groupSize) {

    public QzoSettings {
        positive("qzo.eps", eps);
        if (eps >= 1) {
            throw new IllegalArgumentException("qzo.eps must be < 1, a fraction of each scale (got " + eps + ")");
        }
        positive("qzo.clip", clip);
        positive("qzo.lr", lr);
        positive("qzo.min_scale", minScale);
        if (bits != 4 && bits != 8) {
            throw new IllegalArgumentException("qzo.bits must be 4 or 8 (got " + bits + ")");
        }
        if (groupSize <= 0 || bits == 4 && groupSize % 2 != 0) {
            throw new IllegalArgumentException("qzo.group_size must be > 0 (and even for 4 bits) (got " + groupSize + ")");
        }
    }

    private static void positive(String key, double v) {
        if (!(v > 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException(key + " must be a finite number > 0 (got " + v + ")");
        }
    }
}
