package io.galore4j.projection;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** Reads and validates the parameters of a refresh policy; every error names the field. */
final class PolicyParams {
    private final String policy;
    private final Map<String, ?> values;
    private final Set<String> read = new HashSet<>();

    PolicyParams(String policy, Map<String, ?> values) {
        this.policy = policy;
        this.values = values;
    }

    long positiveLong(String key, long dflt) {
        double v = number(key, dflt);
        if (v != Math.rint(v) || v < 1 || v > Long.MAX_VALUE / 4) {
            throw bad(key, values.get(key), "an integer >= 1");
        }
        return (long) v;
    }

    double unitInterval(String key, double dflt) {
        double v = number(key, dflt);
        if (!(v >= 0 && v <= 1)) {
            throw bad(key, values.get(key), "a number in [0, 1]");
        }
        return v;
    }

    double real(String key, double dflt) {
        double v = number(key, dflt);
        if (!Double.isFinite(v)) {
            throw bad(key, values.get(key), "a finite number");
        }
        return v;
    }

    /** Unknown keys are errors, so a typo is never silently ignored. */
    void rejectUnread() {
        Set<String> unknown = new TreeSet<>(values.keySet());
        unknown.removeAll(read);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException(policy + " refresh policy: unknown parameter(s) " + unknown);
        }
    }

    private double number(String key, double dflt) {
        read.add(key);
        Object v = values.get(key);
        if (v == null) {
            return dflt;
        }
        if (v instanceof Number num) {
            return num.doubleValue();
        }
        try {
            return Double.parseDouble(v.toString().trim());
        } catch (NumberFormatException e) {
            throw bad(key, v, "a number");
        }
    }

    private IllegalArgumentException bad(String key, Object value, String expected) {
        return new IllegalArgumentException(policy + " refresh policy: " + key + " must be " + expected + ", got " + value);
    }
}
