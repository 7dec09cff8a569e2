package io.galore4j.projection;

import java.util.Locale;

/**
 * Which side of the m×n gradient the basis spans (GaLore, Zhao et al. 2024, §4 and Alg. 2).
 * {@link #STD} and {@link #REVERSE} depend on the shape; {@link #resolve} turns them into
 * {@link #LEFT} or {@link #RIGHT}.
 * <ul>
 *   <li>{@code LEFT}: P = U[:, :r] (m×r), R = Pᵀ G (r×n), ΔW = α P N;</li>
 *   <li>{@code RIGHT}: P = V[:, :r] (n×r), R = G P (m×r), ΔW = α N Pᵀ;</li>
 *   <li>{@code STD}: the smaller side, so the state is r × max(m, n): RIGHT if m ≥ n, else LEFT;</li>
 *   <li>{@code REVERSE}: the larger side: LEFT if m ≥ n, else RIGHT.</li>
 * </ul>
 */
public enum Side {
    STD, REVERSE, LEFT, RIGHT;

    /** LEFT or RIGHT for an m×n gradient. */
    public Side resolve(long m, long n) {
        return switch (this) {
            case LEFT, RIGHT -> this;
            case STD -> m >= n ? RIGHT : LEFT;
            case REVERSE -> m >= n ? LEFT : RIGHT;
        };
    }

    /**
     * Shape of the projected gradient R of an m×n gradient at rank r, on this side resolved for
     * m×n: {r, n} on the left (R = Pᵀ G), {m, r} on the right (R = G P).
     */
    public long[] projectedShape(long m, long n, long rank) {
        return resolve(m, n) == LEFT ? new long[] {rank, n} : new long[] {m, rank};
    }

    /** Length of each basis vector of an m×n gradient, on this side resolved for m×n: m on the left, n on the right. */
    public long basisDimension(long m, long n) {
        return resolve(m, n) == LEFT ? m : n;
    }

    /** By name, case-insensitive: std, reverse, left, right. */
    public static Side of(String name) {
        if (name != null) {
            for (Side s : values()) {
                if (s.name().equalsIgnoreCase(name.trim())) {
                    return s;
                }
            }
        }
        throw new IllegalArgumentException("side: unknown value '" + name + "' (expected std, reverse, left or right)");
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
