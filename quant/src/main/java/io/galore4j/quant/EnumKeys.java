package io.galore4j.quant;

import java.util.List;
import java.util.Locale;

/**
 * The configuration name of an enum constant: its name in lower case with '-' for '_'
 * ({@code LAZY_RESET} is {@code lazy-reset}, {@code LINEAR4NZ_RANK1} is {@code linear4nz-rank1}).
 * Every setting with a fixed set of values is an enum named this way, so settings files, config.yaml
 * and checkpoints keep the names they always had.
 */
public final class EnumKeys {
    private EnumKeys() {
    }

    /** The configuration name of {@code e}. */
    public static String key(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The constant among {@code values} whose name is {@code text} (trimmed, any case), or null. */
    public static <E extends Enum<E>> E find(List<E> values, String text) {
        String k = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        for (E e : values) {
            if (key(e).equals(k)) {
                return e;
            }
        }
        return null;
    }
}
