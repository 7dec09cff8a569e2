package io.galore4j.quant;

/**
 * The format shared by the tensors of group-wise integer codes ({@link QuantizedTensor}'s
 * asymmetric codes, {@link SymmetricCodes}): code width, group size and length, checked once here.
 */
abstract class GroupCodes {
    final int bits;
    final int groupSize;
    final int length;

    /** IllegalArgumentException unless bits ∈ {4, 8}, groupSize &gt; 0 (even for INT4) and length ≥ 0. */
    GroupCodes(int bits, int groupSize, int length) {
        GroupQuantizer.checkFormat(bits, groupSize);
        if (length < 0) {
            throw new IllegalArgumentException("length must be >= 0, got " + length);
        }
        this.bits = bits;
        this.groupSize = groupSize;
        this.length = length;
    }

    public int bits() {
        return bits;
    }

    public int groupSize() {
        return groupSize;
    }

    /** Number of elements. */
    public int length() {
        return length;
    }

    /** Number of groups, each with its own scale. */
    public int groupCount() {
        return QuantizedTensor.groups(length, groupSize);
    }
}
