package io.galore4j.trainer.config;

/**
 * Typed reads of a {@link ConfigTree} that validate as they read: every failure names the key,
 * the rule and the value found.
 */
public final class ConfigValues {

    private final ConfigTree tree;

    ConfigValues(ConfigTree tree) {
        this.tree = tree;
    }

    public boolean isSet(String key) {
        return tree.get(key) != null;
    }

    /** An integer in [min, max]. */
    public int integer(String key, int min, int max) {
        Object v = tree.get(key);
        if (!(v instanceof Integer || v instanceof Long)) {
            throw new IllegalArgumentException(key + " must be an integer (got " + describe(v) + ")");
        }
        long x = ((Number) v).longValue();
        if (x < min || x > max) {
            throw new IllegalArgumentException(key + " must be in [" + min + ", " + max + "] (got " + x + ")");
        }
        return (int) x;
    }

    /** A finite number in [min, max]. */
    public double number(String key, double min, double max) {
        Object v = tree.get(key);
        if (!(v instanceof Number)) {
            throw new IllegalArgumentException(key + " must be a number (got " + describe(v) + ")");
        }
        double x = ((Number) v).doubleValue();
        if (!Double.isFinite(x) || x < min || x > max) {
            throw new IllegalArgumentException(key + " must be in [" + min + ", " + max + "] (got " + x + ")");
        }
        return x;
    }

    /** A number strictly above {@code exclusiveMin} and at most {@code max}. */
    public double positive(String key, double exclusiveMin, double max) {
        double x = number(key, Double.NEGATIVE_INFINITY, max);
        if (!(x > exclusiveMin)) {
            throw new IllegalArgumentException(key + " must be > " + exclusiveMin + " (got " + x + ")");
        }
        return x;
    }

    public boolean bool(String key) {
        Object v = tree.get(key);
        if (!(v instanceof Boolean)) {
            throw new IllegalArgumentException(key + " must be true or false (got " + describe(v) + ")");
        }
        return (Boolean) v;
    }

    /** A string (null when unset and {@code nullable}). */
    public String string(String key, boolean nullable) {
        Object v = tree.get(key);
        if (v == null && nullable) {
            return null;
        }
        if (!(v instanceof String) || ((String) v).isBlank()) {
            throw new IllegalArgumentException(key + " must be a non-empty string (got " + describe(v) + ")");
        }
        return (String) v;
    }

    private static String describe(Object v) {
        return v == null ? "nothing" : v instanceof String ? "'" + v + "'" : String.valueOf(v);
    }
}
