package io.galore4j.galore;

/** What a GaLore parameter does with its moments at a basis refresh ({@code optim.on_refresh}): keep them, or rotate them into the new basis. */
public enum OnRefresh {
    KEEP, ROTATE
}
