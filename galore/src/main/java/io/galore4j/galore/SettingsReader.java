package io.galore4j.galore;

import io.galore4j.quant.EnumKeys;
import java.util.List;
import java.util.Map;

/**
 * Typed reads of one {@code optim} map; every error is an {@link IllegalArgumentException} whose
 * message names the key with its prefix ("optim.rank", "optim.layers[0] (match 'x').rank") and
 * the bad value.
 */
final class SettingsReader {
    private final Map<String, Object> values;
    private final String prefix;

    SettingsReader(Map<String, Object> values, String prefix) {
        this.values = values;
        this.prefix = prefix;
    }

    String name(String key) {
        return prefix + key;
    }

    boolean has(String key) {
        return values.get(key) != null;
    }

    Object raw(String key) {
        return values.get(key);
    }

    IllegalArgumentException bad(String key, String rule) {
        return new IllegalArgumentException(name(key) + " " + rule + " (got " + values.get(key) + ")");
    }

    double real(String key) {
        Object v = values.get(key);
        double d;
        if (v instanceof Number n) {
            d = n.doubleValue();
        } else if (v instanceof String s) {
            try {
                d = Double.parseDouble(s.trim());
            } catch (NumberFormatException e) {
                throw bad(key, "must be a number");
            }
        } else {
            throw bad(key, "must be a number");
        }
        if (!Double.isFinite(d)) {
            throw bad(key, "must be finite");
        }
        return d;
    }

    /** A number with lo ≤ x ≤ hi (or lo &lt; x when {@code openLow}). */
    double real(String key, double lo, double hi, boolean openLow) {
        double d = real(key);
        if (openLow ? !(d > lo) : !(d >= lo)) {
            throw bad(key, "must be " + (openLow ? "> " : "≥ ") + fmt(lo));
        }
        if (d > hi) {
            throw bad(key, "must be ≤ " + fmt(hi));
        }
        return d;
    }

    /** β-like value in [0, 1). */
    double fraction(String key) {
        double d = real(key, 0, 1, false);
        if (d >= 1) {
            throw bad(key, "must be < 1");
        }
        return d;
    }

    long integer(String key, long min) {
        double d = real(key);
        if (d != Math.rint(d) || Math.abs(d) > 1e15) {
            throw bad(key, "must be an integer");
        }
        if (d < min) {
            throw bad(key, "must be ≥ " + min);
        }
        return (long) d;
    }

    /** One of {@code allowed}, by its name ({@link EnumKeys}), any case. */
    <E extends Enum<E>> E choice(String key, List<E> allowed) {
        Object v = values.get(key);
        E e = EnumKeys.find(allowed, v == null ? "" : v.toString());
        if (e == null) {
            throw bad(key, "must be one of " + new java.util.TreeSet<>(allowed.stream().map(EnumKeys::key).toList()));
        }
        return e;
    }

    /** As {@link #choice(String, List)} over every constant of {@code type}. */
    <E extends Enum<E>> E choice(String key, Class<E> type) {
        return choice(key, List.of(type.getEnumConstants()));
    }

    boolean bool(String key) {
        Object v = values.get(key);
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof String s && (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false"))) {
            return Boolean.parseBoolean(s);
        }
        throw bad(key, "must be true or false");
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }
}
