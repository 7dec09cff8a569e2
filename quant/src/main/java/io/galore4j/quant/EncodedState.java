package io.galore4j.quant;

import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One optimizer-state tensor in the storage of a {@link StateCodec}: packed codes plus
 * per-block scales (or plain fp32 values for {@code fp32}). Created by
 * {@link StateCodec#allocate(int, int)}; a fresh state decodes to all zeros.
 *
 * <p>Parts, as returned by {@link #parts()} (only those the codec uses):
 * {@code values} (fp32), {@code codes} (packed bytes), {@code scales} (fp32 per block),
 * {@code halfScales} (bfloat16 bits per group), {@code rowScales}/{@code colScales}
 * (fp32, rank-1 scaling). Checkpoints save the parts and restore them with
 * {@link #load(String, Buffer)} into a state allocated by the same codec and shape.
 */
public final class EncodedState {
    private final String codec;
    private final int rows;
    private final int cols;
    private final int length;
    final float[] values;
    final byte[] codes;
    final float[] scales;
    final short[] halfScales;
    final float[] rowScales;
    final float[] colScales;

    EncodedState(String codec, int rows, int cols, float[] values, byte[] codes, float[] scales,
                 short[] halfScales, float[] rowScales, float[] colScales) {
        this.codec = codec;
        this.rows = rows;
        this.cols = cols;
        this.length = rows * cols;
        this.values = values;
        this.codes = codes;
        this.scales = scales;
        this.halfScales = halfScales;
        this.rowScales = rowScales;
        this.colScales = colScales;
    }

    /** Name of the codec that owns this state. */
    public String codec() {
        return codec;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** rows × cols elements. */
    public int length() {
        return length;
    }

    /** Exact storage in bytes: codes plus all scales (or 4 bytes per fp32 value). */
    public long bytes() {
        long b = 0;
        b += values == null ? 0 : 4L * values.length;
        b += codes == null ? 0 : codes.length;
        b += scales == null ? 0 : 4L * scales.length;
        b += halfScales == null ? 0 : 2L * halfScales.length;
        b += rowScales == null ? 0 : 4L * rowScales.length;
        b += colScales == null ? 0 : 4L * colScales.length;
        return b;
    }

    /** Read-only views of the stored arrays, by part name, in a fixed order. */
    public Map<String, Buffer> parts() {
        Map<String, Buffer> parts = new LinkedHashMap<>();
        if (values != null) {
            parts.put("values", FloatBuffer.wrap(values).asReadOnlyBuffer());
        }
        if (codes != null) {
            parts.put("codes", ByteBuffer.wrap(codes).asReadOnlyBuffer());
        }
        if (scales != null) {
            parts.put("scales", FloatBuffer.wrap(scales).asReadOnlyBuffer());
        }
        if (halfScales != null) {
            parts.put("halfScales", ShortBuffer.wrap(halfScales).asReadOnlyBuffer());
        }
        if (rowScales != null) {
            parts.put("rowScales", FloatBuffer.wrap(rowScales).asReadOnlyBuffer());
        }
        if (colScales != null) {
            parts.put("colScales", FloatBuffer.wrap(colScales).asReadOnlyBuffer());
        }
        return parts;
    }

    /**
     * Copies a saved part back in (from the source buffer's position, which is not moved).
     * The part must exist for this codec, have the same element type and exactly the stored
     * length; float scales must be finite and {@code >= 0}.
     */
    public void load(String part, Buffer src) {
        Buffer target = parts().get(part);
        if (target == null) {
            throw new IllegalArgumentException(codec + " state has no part '" + part + "', parts are " + parts().keySet());
        }
        if (src == null || src.remaining() != target.remaining()) {
            throw new IllegalArgumentException(codec + " part '" + part + "': expected " + target.remaining()
                    + " elements, got " + (src == null ? "null" : src.remaining()));
        }
        if (target instanceof FloatBuffer && src instanceof FloatBuffer) {
            FloatBuffer f = ((FloatBuffer) src).duplicate();
            float[] dst = part.equals("values") ? values : part.equals("scales") ? scales
                    : part.equals("rowScales") ? rowScales : colScales;
            for (int i = 0; i < dst.length; i++) {
                float v = f.get();
                boolean ok = part.equals("values") ? Float.isFinite(v) : v >= 0 && Float.isFinite(v);
                if (!ok) {
                    throw new IllegalArgumentException(codec + " part '" + part + "': invalid value " + v + " at index " + i);
                }
                dst[i] = v;
            }
        } else if (target instanceof ByteBuffer && src instanceof ByteBuffer) {
            ((ByteBuffer) src).duplicate().get(codes);
        } else if (target instanceof ShortBuffer && src instanceof ShortBuffer) {
            ((ShortBuffer) src).duplicate().get(halfScales);
        } else {
            throw new IllegalArgumentException(codec + " part '" + part + "': expected a "
                    + target.getClass().getSimpleName() + ", got " + src.getClass().getSimpleName());
        }
    }

    @Override
    public String toString() {
        return "EncodedState[" + codec + ", " + rows + "x" + cols + ", " + bytes() + " bytes]";
    }
}
