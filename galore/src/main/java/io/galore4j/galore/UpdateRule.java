package io.galore4j.galore;

/** The full-rank update rule of {@code optim.rule} (GaLore parameters always use Adam; docs/design.md §3). */
public enum UpdateRule {
    ADAMW, SGD, LION
}
