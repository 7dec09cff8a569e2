package io.galore4j.projection;

import java.util.Locale;

/** How the rank-r basis is computed at a refresh. */
public enum BasisMethod {
    /** Thin SVD by LAPACK sgesdd (jobz='S'): exact up to fp32 rounding. */
    EXACT,
    /** Randomized subspace iteration (Halko, Martinsson, Tropp 2011), seeded. */
    RANDOMIZED;

    /** By name, case-insensitive: exact, randomized. */
    public static BasisMethod of(String name) {
        if (name != null) {
            for (BasisMethod b : values()) {
                if (b.name().equalsIgnoreCase(name.trim())) {
                    return b;
                }
            }
        }
        throw new IllegalArgumentException("basisMethod: unknown value '" + name + "' (expected exact or randomized)");
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
