package io.galore4j.quant;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;

/**
 * A tensor stored as group-wise asymmetric integer codes (INT8 or INT4), docs/design.md §3
 * "Q-GaLore additions". Element i of group g = i / groupSize decodes to
 * {@code zeroPoint[g] + code[i] * scale[g]}: the zero point is stored as the real value of
 * code 0 (the group minimum), so the group's minimum and maximum are both exact.
 *
 * <p>Storage: INT8 keeps one code per byte; INT4 packs two codes per byte, element 2k in the
 * low nibble and element 2k+1 in the high nibble of byte k. Scales and zero points are fp32.
 * Instances are created and rewritten by {@link GroupQuantizer}; the raw arrays are exposed
 * as read-only buffers (for checkpoints) and can be restored with
 * {@link #QuantizedTensor(int, int, int, byte[], float[], float[])}.
 */
public final class QuantizedTensor extends GroupCodes {
    final byte[] codes;
    final float[] scales;
    final float[] zeroPoints;

    /** An all-zero tensor (every element decodes to 0). */
    QuantizedTensor(int bits, int groupSize, int length) {
        super(bits, groupSize, length);
        this.codes = new byte[codeBytes(bits, length)];
        int groups = groups(length, groupSize);
        this.scales = new float[groups];
        this.zeroPoints = new float[groups];
    }

    /**
     * Restores a tensor from its raw arrays (taken over, not copied), validating their sizes and
     * that every scale is finite and {@code >= 0} and every zero point finite.
     */
    public QuantizedTensor(int bits, int groupSize, int length, byte[] codes, float[] scales, float[] zeroPoints) {
        super(bits, groupSize, length);
        int groups = groups(length, groupSize);
        if (codes == null || codes.length != codeBytes(bits, length)) {
            throw new IllegalArgumentException("codes: expected " + codeBytes(bits, length) + " bytes for "
                    + length + " INT" + bits + " codes, got " + (codes == null ? "null" : codes.length));
        }
        if (scales == null || scales.length != groups) {
            throw new IllegalArgumentException("scales: expected " + groups + " values, got "
                    + (scales == null ? "null" : scales.length));
        }
        if (zeroPoints == null || zeroPoints.length != groups) {
            throw new IllegalArgumentException("zeroPoints: expected " + groups + " values, got "
                    + (zeroPoints == null ? "null" : zeroPoints.length));
        }
        for (int g = 0; g < groups; g++) {
            if (!(scales[g] >= 0) || Float.isInfinite(scales[g])) {
                throw new IllegalArgumentException("scales[" + g + "] must be finite and >= 0, got " + scales[g]);
            }
            if (!Float.isFinite(zeroPoints[g])) {
                throw new IllegalArgumentException("zeroPoints[" + g + "] must be finite, got " + zeroPoints[g]);
            }
        }
        this.codes = codes;
        this.scales = scales;
        this.zeroPoints = zeroPoints;
    }

    static int codeBytes(int bits, int length) {
        return bits == 8 ? length : (length + 1) >>> 1;
    }

    static int groups(int length, int groupSize) {
        return (int) (((long) length + groupSize - 1) / groupSize);
    }

    /** Exact storage: code bytes + 4 bytes per scale + 4 bytes per zero point. */
    public long bytes() {
        return codes.length + 4L * scales.length + 4L * zeroPoints.length;
    }

    /**
     * Bytes of a tensor of {@code length} elements in this format, without allocating: INT8 codes
     * one per byte, INT4 two per byte, plus an fp32 scale and an fp32 zero point per group.
     */
    public static long bytes(int bits, int groupSize, long length) {
        long groups = (length + groupSize - 1) / groupSize;
        long codes = bits == 8 ? length : (length + 1) / 2;
        return codes + 8 * groups;
    }

    /** Read-only view of the packed codes. */
    public ByteBuffer codes() {
        return ByteBuffer.wrap(codes).asReadOnlyBuffer();
    }

    /** Read-only view of the per-group scales. */
    public FloatBuffer scales() {
        return FloatBuffer.wrap(scales).asReadOnlyBuffer();
    }

    /** Read-only view of the per-group zero points (the value of code 0). */
    public FloatBuffer zeroPoints() {
        return FloatBuffer.wrap(zeroPoints).asReadOnlyBuffer();
    }

    /**
     * Copies saved arrays back in (a checkpoint's {@link #codes()}, {@link #scales()} and
     * {@link #zeroPoints()} of a tensor of the same format and length), from each buffer's
     * position, which is not moved. Sizes and values are checked as by the restoring constructor
     * before anything is copied, so a rejected load leaves this tensor unchanged.
     */
    public void load(ByteBuffer savedCodes, FloatBuffer savedScales, FloatBuffer savedZeroPoints) {
        byte[] c = new byte[codes.length];
        float[] s = new float[scales.length];
        float[] z = new float[zeroPoints.length];
        if (savedCodes == null || savedCodes.remaining() != c.length) {
            throw new IllegalArgumentException("codes: expected " + c.length + " bytes, got "
                    + (savedCodes == null ? "null" : savedCodes.remaining()));
        }
        if (savedScales == null || savedScales.remaining() != s.length
                || savedZeroPoints == null || savedZeroPoints.remaining() != z.length) {
            throw new IllegalArgumentException("scales and zero points: expected " + s.length + " values each");
        }
        savedCodes.duplicate().get(c);
        savedScales.duplicate().get(s);
        savedZeroPoints.duplicate().get(z);
        new QuantizedTensor(bits, groupSize, length, c, s, z); // validates the values
        System.arraycopy(c, 0, codes, 0, c.length);
        System.arraycopy(s, 0, scales, 0, s.length);
        System.arraycopy(z, 0, zeroPoints, 0, z.length);
    }

    /** The integer code of element i (0 … 2^bits − 1). */
    public int code(int i) {
        if (i < 0 || i >= length) {
            throw new IndexOutOfBoundsException("index " + i + " out of [0, " + length + ")");
        }
        if (bits == 8) {
            return codes[i] & 0xFF;
        }
        return (codes[i >>> 1] >>> ((i & 1) << 2)) & 0xF;
    }

    /** Decoded value of element i. */
    public float get(int i) {
        int g = i / groupSize;
        return zeroPoints[g] + code(i) * scales[g];
    }

    @Override
    public String toString() {
        return "QuantizedTensor[INT" + bits + ", groupSize=" + groupSize + ", length=" + length + "]";
    }
}
