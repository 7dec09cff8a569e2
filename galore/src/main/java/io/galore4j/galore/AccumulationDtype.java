package io.galore4j.galore;

/** The storage of accumulated micro-batch gradients ({@code optim.accumulation}). */
public enum AccumulationDtype {
    FP32, BF16
}
