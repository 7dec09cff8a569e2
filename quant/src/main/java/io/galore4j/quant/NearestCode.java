package io.galore4j.quant;

/**
 * Exact nearest-level search in a sorted code map without a per-element binary search.
 * Floats are mapped to a monotone integer key; the top 14 bits of the key select a bucket
 * whose precomputed entry is the number of decision thresholds (midpoints between adjacent
 * levels) below the bucket's smallest value, a lower bound of the answer; a short forward
 * scan over the thresholds finishes. The result equals a binary search over the midpoints
 * (ties go to the lower level).
 */
final class NearestCode {
    private static final int SHIFT = 18;
    private static final int OFFSET = 1 << (31 - SHIFT);

    final float[] levels;
    private final float[] thresholds; // thresholds[k] = midpoint of levels k, k+1; last = +inf
    private final byte[] start;

    NearestCode(float[] levels) {
        if (levels.length > 256) {
            throw new IllegalArgumentException("at most 256 levels, got " + levels.length);
        }
        this.levels = levels.clone();
        thresholds = new float[levels.length];
        for (int k = 0; k + 1 < levels.length; k++) {
            if (!(levels[k] < levels[k + 1])) {
                throw new IllegalArgumentException("levels must increase, at " + k);
            }
            thresholds[k] = (float) (((double) levels[k] + levels[k + 1]) / 2);
        }
        thresholds[levels.length - 1] = Float.POSITIVE_INFINITY;
        start = new byte[2 * OFFSET];
        for (int b = 0; b < start.length; b++) {
            int key = (b - OFFSET) << SHIFT;
            int bits = key >= 0 ? key : key ^ 0x7FFFFFFF;
            float lo = Float.intBitsToFloat(bits);
            int count;
            if (Float.isNaN(lo)) {
                count = key >= 0 ? levels.length - 1 : 0;
            } else {
                count = 0;
                while (count < levels.length - 1 && thresholds[count] < lo) {
                    count++;
                }
            }
            start[b] = (byte) count;
        }
    }

    /** Index of the level nearest to finite y. */
    int index(float y) {
        int bits = Float.floatToRawIntBits(y);
        int key = bits ^ ((bits >> 31) & 0x7FFFFFFF);
        int c = start[(key >> SHIFT) + OFFSET] & 0xFF;
        while (y > thresholds[c]) {
            c++;
        }
        return c;
    }

    /** Reference: binary search over the thresholds (for tests). */
    int indexByBinarySearch(float y) {
        int lo = 0;
        int hi = levels.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (y > thresholds[mid]) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }
}
