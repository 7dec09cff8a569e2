package io.galore4j.galore;

/** How {@code optim.weights} stores a weight: fp32, INT8 groups of 256 ({@link Int8Weight}), or bf16 plus an int8 correction ({@link SplitWeight}). */
public enum WeightStorage {
    FP32, INT8, SPLIT
}
