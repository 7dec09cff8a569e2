package io.galore4j.galore;

/**
 * The norm-growth limiter of the float64 references (Fira §3.3, γ = 1.01), written apart from
 * {@link NormGrowthLimiter} so the tests check it, and counting how often it acted.
 */
final class Float64Limiter {
    private double last = Double.NaN;
    /** Steps whose update it cut. */
    int limited;

    /** The factor for an update of norm {@code norm}. */
    double factor(double norm) {
        double f = 1;
        if (last > 0 && norm > 1.01 * last) {
            f = 1.01 * last / norm;
            limited++;
        }
        last = norm * f;
        return f;
    }
}
