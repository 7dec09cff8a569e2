package io.galore4j.trainer.data;

/**
 * A token stream cut into training and validation parts: the last
 * V = ⌊val_fraction · n⌋ tokens are validation, the first n − V training.
 */
public final class TokenSplit {

    /** Default {@code data.val_fraction}. */
    public static final double DEFAULT_VAL_FRACTION = 0.05;

    private final int[] tokens;
    private final int trainSize;

    /** Splits {@code tokens} (not copied); {@code valFraction} in [0, 1). */
    public TokenSplit(int[] tokens, double valFraction) {
        if (!(valFraction >= 0.0 && valFraction < 1.0)) {
            throw new IllegalArgumentException("data.val_fraction must be in [0, 1), got " + valFraction);
        }
        this.tokens = tokens;
        long valSize = (long) Math.floor(valFraction * tokens.length);
        this.trainSize = (int) (tokens.length - valSize);
    }

    public int trainSize() {
        return trainSize;
    }

    public int valSize() {
        return tokens.length - trainSize;
    }

    /** Copies training tokens [offset, offset + dst.length) into {@code dst}. */
    public void trainWindow(int offset, int[] dst) {
        copy(0, trainSize, offset, dst, "training");
    }

    /** Copies validation tokens [offset, offset + dst.length) (offset within the validation part). */
    public void valWindow(int offset, int[] dst) {
        copy(trainSize, tokens.length, offset, dst, "validation");
    }

    private void copy(int start, int end, int offset, int[] dst, String part) {
        if (offset < 0 || (long) start + offset + dst.length > end) {
            throw new IllegalArgumentException("window [" + offset + ", " + ((long) offset + dst.length)
                    + ") is outside the " + part + " part of " + (end - start) + " tokens");
        }
        System.arraycopy(tokens, start + offset, dst, 0, dst.length);
    }
}
