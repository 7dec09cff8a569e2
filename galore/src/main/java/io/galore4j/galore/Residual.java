package io.galore4j.galore;

/**
 * What a GaLore parameter does with the part of its gradient outside the subspace
 * ({@code optim.residual}): {@code none} drops it (GaLore), {@code fira} adds it, scaled column by
 * column and norm-growth limited (Fira, {@link FiraResidual}; docs/design.md §3).
 */
public enum Residual {
    NONE, FIRA;
}
