package io.galore4j.trainer.model;

import java.util.function.BooleanSupplier;

/**
 * The arithmetic of the model's weight products ({@code train.compute}, docs/design.md §5): FP32
 * through ND4J's BLAS, or BF16 operands with fp32 accumulation through oneDNN. Everything else
 * (weights, optimizer, attention, norms, loss) stays fp32 either way.
 */
public enum Compute {
    FP32("fp32"),
    BF16("bf16");

    private final String key;

    Compute(String key) {
        this.key = key;
    }

    /** The setting's spelling, as summary.json records it. */
    public String key() {
        return key;
    }

    /** {@code setting} (auto | fp32 | bf16) on this machine: auto is bf16 where oneDNN has native bf16 products. */
    public static Compute resolve(String setting) {
        Compute c = resolve(setting, OneDnn::bf16Capable);
        String missing = c == BF16 ? OneDnn.loadError() : null;
        if (missing != null) {
            throw new IllegalArgumentException("train.compute bf16 needs oneDNN, which does not load here: " + missing);
        }
        return c;
    }

    /** As {@link #resolve(String)} with the CPU's bf16 support given by {@code bf16Capable}. */
    public static Compute resolve(String setting, BooleanSupplier bf16Capable) {
        switch (setting) {
            case "auto":
                return bf16Capable.getAsBoolean() ? BF16 : FP32;
            case "fp32":
                return FP32;
            case "bf16":
                return BF16;
            default:
                throw new IllegalArgumentException("train.compute must be auto, fp32 or bf16, got '" + setting + "'");
        }
    }
}
