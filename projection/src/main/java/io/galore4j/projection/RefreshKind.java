package io.galore4j.projection;

/**
 * The refresh policies by name ({@link RefreshPolicy#of(RefreshKind, java.util.Map)}):
 * {@code fixed}, {@code lazy}, {@code lazy-reset}, {@code adaptive} (named as {@link io.galore4j.quant.EnumKeys} says).
 */
public enum RefreshKind {
    FIXED, LAZY, LAZY_RESET, ADAPTIVE;
}
