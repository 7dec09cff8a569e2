package io.galore4j.trainer.io;

import io.galore4j.quant.Bf16;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The element types of a safetensors file this project reads and writes, under the format's own
 * names. Model values travel as fp32 in memory; {@link #BF16} is a storage format only (docs/design.md
 * §5: 16-bit products are slow on CPU). {@link #U8} and {@link #I16} hold the raw codes and
 * bfloat16 scale bits of quantized tensors in checkpoints, copied as they are.
 */
public enum Dtype {
    /** IEEE 754 binary32, stored as its exact bits. */
    F32(4),
    /** bfloat16: the upper 16 bits of a binary32; written with round-to-nearest-even. */
    BF16(2),
    /** Unsigned bytes (quantization codes), copied bit for bit. */
    U8(1),
    /** 16-bit integers (raw bfloat16 scale bits), copied bit for bit. */
    I16(2);

    private final int bytes;

    Dtype(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** The names {@code galore export --dtype} accepts, any case. */
    private static final java.util.Map<String, Dtype> EXPORT_NAMES = java.util.Map.of("f32", F32, "fp32", F32,
            "float32", F32, "bf16", BF16, "bfloat16", BF16);

    /** The type of an exported model's weights named {@code name} (f32 or bf16, with their aliases). */
    public static Dtype exportType(String name) {
        Dtype d = EXPORT_NAMES.get(name.toLowerCase(java.util.Locale.ROOT));
        if (d == null) {
            throw new IllegalArgumentException("--dtype must be f32 or bf16, got '" + name + "'");
        }
        return d;
    }

    /** The dtype called {@code name} in a header, or null if this project does not know it. */
    static Dtype byName(String name) {
        for (Dtype d : values()) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        return null;
    }

    static String known() {
        return Arrays.toString(values());
    }

    /** Whether elements of this type are read and written as fp32 values ({@link #get}, {@link #put}). */
    public boolean isFloat() {
        return this == F32 || this == BF16;
    }

    /** Appends {@code v} to {@code out} (little-endian order set by the caller). */
    void put(ByteBuffer out, float v) {
        if (!isFloat()) {
            throw new IllegalStateException(this + " elements are not fp32 values");
        }
        if (this == F32) {
            out.putFloat(v);
        } else {
            out.putShort(Bf16.round(v)); // round to nearest even
        }
    }

    /** Reads one element from {@code in} as fp32. */
    float get(ByteBuffer in) {
        if (!isFloat()) {
            throw new IllegalStateException(this + " elements are not fp32 values");
        }
        return this == F32 ? in.getFloat() : Float.intBitsToFloat((in.getShort() & 0xFFFF) << 16);
    }
}
