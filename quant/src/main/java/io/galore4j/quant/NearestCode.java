package io.galore4j.quant;

/**
 * Exact nearest-level search in a sorted code map without a per-element binary search.
 * Floats are mapped to a monotone integer key; its top bits select a bucket whose precomputed
 * entry is the number of decision thresholds (midpoints between adjacent levels) below the
 * bucket's smallest value. The bucket width is the widest (at most 2^{@value #MAX_SHIFT} keys)
 * for which no bucket holds more than one threshold, so a single comparison finishes. One int
 * per bucket holds both the entry (top 8 bits) and the key offset of the bucket's threshold
 * within the bucket (low 24 bits; all ones when it has none), and the comparison is a
 * subtraction of key offsets (no branch to mispredict). A map too dense for the narrowest
 * allowed width keeps a forward scan. The result equals a binary search over the
 * midpoints (ties go to the lower level) for every non-NaN y.
 */
final class NearestCode {
    private static final int MAX_SHIFT = 24;
    private static final int MIN_SHIFT = 15; // at most 2^17 buckets (128 KiB)
    /** Direct buckets are 2^5 times narrower than the single-step ones: few hold a threshold. */
    private static final int DIRECT_SUBDIVISION = 5;
    private static final int DIRECT_MIN_SHIFT = 12; // at most 2^20 entries (2 MiB)

    final float[] levels;
    private final float[] thresholds; // thresholds[k] = midpoint of levels k, k+1; last = +inf
    private final int[] thresholdKeys; // key(thresholds[k]), −0 as +0; last = Integer.MAX_VALUE
    private final int shift;
    private final int offset;
    private final boolean singleStep;
    private final byte[] start;
    private final int[] packed; // singleStep: start << 24 | offset of the bucket's threshold key
    private final int directShift;
    private volatile short[] direct; // built on first use, see direct()

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
        thresholdKeys = new int[levels.length];
        for (int k = 0; k + 1 < levels.length; k++) {
            // for non-NaN y: y > t exactly when key(y) > key(t), once t = −0 is keyed as +0
            thresholdKeys[k] = thresholds[k] == 0f ? 0 : key(thresholds[k]);
        }
        thresholdKeys[levels.length - 1] = Integer.MAX_VALUE; // above every key, NaN included
        int s = MAX_SHIFT;
        while (s > MIN_SHIFT && maxThresholdsPerBucket(s) > 1) {
            s--;
        }
        shift = s;
        offset = 1 << (31 - s);
        singleStep = maxThresholdsPerBucket(s) <= 1;
        start = new byte[2 * offset];
        int below = 0; // thresholds below the current bucket's smallest value (lo increases with b)
        for (int b = 0; b < start.length; b++) {
            float lo = bucketLow(b, s);
            if (Float.isNaN(lo)) {
                start[b] = (byte) (b >= offset ? levels.length - 1 : 0);
                continue;
            }
            while (below < levels.length - 1 && thresholds[below] < lo) {
                below++;
            }
            start[b] = (byte) below;
        }
        int mask = (1 << s) - 1;
        directShift = Math.max(DIRECT_MIN_SHIFT, s - DIRECT_SUBDIVISION);
        packed = new int[singleStep ? start.length : 0];
        for (int b = 0; b < packed.length; b++) {
            int c = start[b] & 0xFF;
            long offsetInBucket = (long) thresholdKeys[c] - ((long) (b - offset) << s);
            int position = offsetInBucket >= 0 && offsetInBucket < mask ? (int) offsetInBucket : mask;
            packed[b] = (c << 24) | position;
        }
    }

    /** Monotone integer key of a float: the order of the keys is the order of the floats, −0 < +0. */
    private static int key(float y) {
        int bits = Float.floatToRawIntBits(y);
        return bits ^ ((bits >> 31) & 0x7FFFFFFF);
    }

    /** Smallest float (by key) of bucket b at the given shift; NaN for a bucket of NaN keys. */
    private static float bucketLow(int b, int shift) {
        int key = (b - (1 << (31 - shift))) << shift;
        return Float.intBitsToFloat(key >= 0 ? key : key ^ 0x7FFFFFFF);
    }

    /** Largest float (by key) of bucket b; +inf stands in for the NaN keys above it. */
    private static float bucketHigh(int b, int shift) {
        int key = ((b - (1 << (31 - shift))) << shift) | ((1 << shift) - 1);
        float hi = Float.intBitsToFloat(key >= 0 ? key : key ^ 0x7FFFFFFF);
        return Float.isNaN(hi) ? Float.POSITIVE_INFINITY : hi;
    }

    /**
     * The most finite thresholds t with lo ≤ t &lt; hi in one bucket: the candidates y &gt; t
     * can add to the bucket's entry for a y in the bucket.
     */
    private int maxThresholdsPerBucket(int s) {
        int worst = 0;
        int t = 0;
        while (t < levels.length - 1) {
            // the bucket of thresholds[t], then count the thresholds sharing it
            int b = (key(thresholds[t]) >> s) + (1 << (31 - s));
            float lo = bucketLow(b, s);
            float hi = bucketHigh(b, s);
            int n = 0;
            int u = t;
            while (u < levels.length - 1 && thresholds[u] < hi) {
                if (!(thresholds[u] < lo)) {
                    n++;
                }
                u++;
            }
            worst = Math.max(worst, n);
            t = Math.max(u, t + 1);
        }
        return worst;
    }

    /** Index of the level nearest to y (finite or infinite; NaN gives a valid but arbitrary index). */
    int index(float y) {
        int key = key(y);
        if (singleStep) { // + 1 when key > the threshold's key: both as offsets in the bucket, < 2^24
            int e = packed[(key >> shift) + offset];
            return (e >>> 24) + (((e & 0xFFFFFF) - (key & ((1 << shift) - 1))) >>> 31);
        }
        int c = start[(key >> shift) + offset] & 0xFF;
        while (y > thresholds[c]) {
            c++;
        }
        return c;
    }

    /**
     * The direct table over the raw float bits: entry b is the code of every float whose bits
     * shifted right by {@code directShift} are b, or −1 where that bucket holds a threshold
     * (or NaN), for which {@link #index} decides. Indexed by the raw bits, a lookup needs no
     * order-preserving key and no comparison; with buckets 2^{@value #DIRECT_SUBDIVISION} times
     * narrower than {@link #index}'s, few lookups fall back (docs/benchmarks.md, state codecs).
     * Built on first use (a racing thread builds the same table).
     */
    private short[] direct() {
        short[] d = direct;
        if (d == null) {
            d = new short[1 << (32 - directShift)];
            int width = (1 << directShift) - 1;
            for (int b = 0; b < d.length; b++) {
                int lowBits = b << directShift;
                float lo = Float.intBitsToFloat(lowBits);
                float hi = Float.intBitsToFloat(lowBits | width);
                int a = index(lo);
                d[b] = (short) (!Float.isNaN(lo) && !Float.isNaN(hi) && a == index(hi) ? a : -1);
            }
            direct = d;
        }
        return d;
    }

    /**
     * codes[e + j] = index(src[q + j] · inv) for j &lt; n; where {@code zero} ≥ 0, a positive x whose
     * nearest level is that index gets the next one instead. The same results as {@link #index},
     * through the direct table.
     */
    void indices(float[] src, int q, int n, float inv, int zero, byte[] codes, int e) {
        short[] table = direct();
        int s = directShift;
        for (int j = 0; j < n; j++) {
            float x = src[q + j];
            codes[e + j] = (byte) adjust(code(table, s, x * inv), zero, x);
        }
    }

    /**
     * As {@link #indices} for 4-bit codes packed two per byte from byte b (code 2i in the low
     * nibble, 2i + 1 in the high one; an odd last code alone in the low nibble).
     */
    void indices4(float[] src, int q, int n, float inv, int zero, byte[] codes, int b) {
        short[] table = direct();
        int s = directShift;
        int pairs = n >>> 1;
        for (int i = 0; i < pairs; i++) {
            float x0 = src[q + 2 * i];
            float x1 = src[q + 2 * i + 1];
            int c0 = adjust(code(table, s, x0 * inv), zero, x0);
            int c1 = adjust(code(table, s, x1 * inv), zero, x1);
            codes[b + i] = (byte) (c0 | (c1 << 4));
        }
        if ((n & 1) != 0) {
            float x = src[q + n - 1];
            codes[b + pairs] = (byte) adjust(code(table, s, x * inv), zero, x);
        }
    }

    /** index(y) by the direct table, falling back to {@link #index} in a bucket with a threshold. */
    private int code(short[] table, int s, float y) {
        int c = table[Float.floatToRawIntBits(y) >>> s];
        return c >= 0 ? c : index(y);
    }

    private static int adjust(int c, int zero, float x) {
        return c == zero && x > 0 ? c + 1 : c;
    }

    /** log2 of the direct table's bucket width in raw float bits (for tests). */
    int directShift() {
        return directShift;
    }

    /** log2 of the bucket width in keys (for tests). */
    int shift() {
        return shift;
    }

    /** Whether one comparison after the bucket lookup suffices (for tests). */
    boolean singleStep() {
        return singleStep;
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
