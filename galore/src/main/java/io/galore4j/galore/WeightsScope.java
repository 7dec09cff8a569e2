package io.galore4j.galore;

/** The parameters the global {@code optim.weights} applies to ({@code optim.weights_scope}): all, or only those {@code optim.projection} matches. */
public enum WeightsScope {
    ALL, PROJECTION
}
