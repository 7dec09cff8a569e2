package io.galore4j.galore;

/**
 * The optimizer methods ({@code optim.method}); each is a preset file
 * {@code presets/<name>.yaml} next to this class ({@link Presets}).
 */
public enum Method {
    ADAMW, ADAMW8BIT, ADAMW4BIT, SOLO, GALORE, Q_GALORE, SGD, LION, FLASH_ADAMW, FLASH_LION, FLASH_SGD, APOLLO, APOLLO_MINI, Q_APOLLO_MINI, FIRA;
}
