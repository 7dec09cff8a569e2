package io.galore4j.galore;

/**
 * {@code optim.scaling}: how a projected parameter's update is formed. {@code none}: GaLore's
 * (SVD basis, Adam's update projected back); {@code channel} / {@code tensor}: APOLLO's (a random
 * Gaussian projection, the full gradient scaled per channel or per matrix, docs/design.md §3).
 */
public enum Scaling {
    NONE, CHANNEL, TENSOR
}
