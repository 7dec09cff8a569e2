package io.galore4j.projection;

import java.util.Locale;

/** How a projector computes its basis. */
public enum BasisMethod {
    /** Thin SVD by LAPACK sgesdd (jobz='S'): exact up to fp32 rounding. */
    EXACT,
    /** Randomized subspace iteration (Halko, Martinsson, Tropp 2011), seeded. */
    RANDOMIZED,
    /**
     * {@link #EXACT} for a matrix whose smaller side is at most {@value #AUTO_EXACT_MAX_SIDE},
     * {@link #RANDOMIZED} above: a thin SVD's cost grows with m·n·min(m, n) whatever the rank, so
     * from the 1B model's 2048-wide layers on the randomized basis is far cheaper (docs/design.md §3.1).
     */
    AUTO;

    /** The largest min(m, n) {@link #AUTO} computes with an exact SVD. */
    public static final long AUTO_EXACT_MAX_SIDE = 1024;

    /** By name, case-insensitive: exact, randomized, auto. */
    public static BasisMethod of(String name) {
        if (name != null) {
            for (BasisMethod b : values()) {
                if (b.name().equalsIgnoreCase(name.trim())) {
                    return b;
                }
            }
        }
        throw new IllegalArgumentException("basisMethod: unknown value '" + name + "' (expected exact, randomized or auto)");
    }

    /** The method used for an m×n matrix: this one, or for {@link #AUTO} the one it picks. */
    public BasisMethod resolve(long m, long n) {
        if (this != AUTO) {
            return this;
        }
        return Math.min(m, n) <= AUTO_EXACT_MAX_SIDE ? EXACT : RANDOMIZED;
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
