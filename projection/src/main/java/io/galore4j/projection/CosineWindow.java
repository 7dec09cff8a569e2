package io.galore4j.projection;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/** The last {@code size} first-vector cosines a lazy refresh policy keeps, oldest first. */
final class CosineWindow {
    private final int size;
    private final Deque<Double> values = new ArrayDeque<>();

    CosineWindow(int size) {
        this.size = size;
    }

    /** Appends c, dropping the oldest value when {@code size} are kept. */
    void add(double c) {
        if (values.size() == size) {
            values.removeFirst();
        }
        values.addLast(c);
    }

    boolean full() {
        return values.size() == size;
    }

    /** The sum of the kept values, added oldest first, divided by {@code size}. */
    double mean() {
        double sum = 0;
        for (double v : values) {
            sum += v;
        }
        return sum / size;
    }

    void clear() {
        values.clear();
    }

    List<Double> toList() {
        return new ArrayList<>(values);
    }

    /**
     * {@code saved} as values for {@link #set}, if it is a list of at most {@code size} finite
     * numbers in [min, max]; otherwise an IllegalArgumentException naming {@code what}.
     */
    List<Double> checked(Object saved, String what, double min, double max) {
        if (!(saved instanceof List<?> list) || list.size() > size) {
            throw new IllegalArgumentException(what + " must be a list of at most " + size + " numbers, got " + saved);
        }
        List<Double> checked = new ArrayList<>();
        for (Object o : list) {
            if (!(o instanceof Number n) || !(n.doubleValue() >= min && n.doubleValue() <= max)) {
                throw new IllegalArgumentException(what + " must be numbers in [" + min + ", " + max + "], got " + o);
            }
            checked.add(n.doubleValue());
        }
        return checked;
    }

    /** Replaces the values by {@link #checked} ones. */
    void set(List<Double> checked) {
        values.clear();
        values.addAll(checked);
    }
}
