package io.galore4j.quant;

/** The code maps (normalized levels in code order) of the map-based state codecs, docs/design.md §3. */
final class CodeMaps {
    private CodeMaps() {
    }

    /**
     * bitsandbytes dynamic 8-bit map: for decade e = −6 … 0, the midpoints of k + 1 evenly
     * spaced points between 0.1 and 1, times 10^e, with k = 2^i (signed, both signs) or
     * 2^(i+1) (unsigned), i = e + 6; plus 0 and 1; sorted. Float32 arithmetic as in the
     * reference (linspace step in double, midpoints and scaling in float), so the 256 values
     * equal its table bit for bit.
     */
    static float[] dynamic8(boolean signed) {
        float[] map = new float[256];
        int n = 0;
        for (int i = 0; i < 7; i++) {
            int points = signed ? (1 << i) + 1 : (1 << (i + 1)) + 1;
            float[] boundary = linspace(0.1f, 1f, points);
            float decade = (float) Math.pow(10, i - 6);
            for (int k = 0; k + 1 < points; k++) {
                float mid = (boundary[k] + boundary[k + 1]) / 2f;
                map[n++] = decade * mid;
                if (signed) {
                    map[n++] = -decade * mid;
                }
            }
        }
        map[n++] = 0f;
        map[n++] = 1f;
        if (n != 256) {
            throw new AssertionError("dynamic map has " + n + " values");
        }
        java.util.Arrays.sort(map);
        return map;
    }

    /** Evenly spaced points, symmetric from both ends (as torch.linspace computes them). */
    private static float[] linspace(float start, float end, int points) {
        float[] x = new float[points];
        double step = ((double) end - start) / (points - 1);
        int half = points / 2;
        for (int k = 0; k < points; k++) {
            x[k] = (float) (k < half ? start + step * k : end - step * (points - 1 - k));
        }
        return x;
    }

    /** 4-bit signed dynamic-exponent map of Li, Chen and Zhu (2023), first moment. */
    static float[] de4() {
        return new float[] {-0.8875f, -0.6625f, -0.4375f, -0.2125f, -0.0775f, -0.0325f, -0.0055f, 0f,
                0.0055f, 0.0325f, 0.0775f, 0.2125f, 0.4375f, 0.6625f, 0.8875f, 1f};
    }

    /** 4-bit unsigned linear map without zero, {1/16, 2/16, …, 1} (second moment). */
    static float[] linear4NoZero() {
        float[] map = new float[16];
        for (int k = 0; k < 16; k++) {
            map[k] = (k + 1) / 16f;
        }
        return map;
    }

    /** SOLO 2-bit signed map, first moment. */
    static float[] signed2() {
        return new float[] {-0.55f, 0f, 0.55f, 1f};
    }

    /** SOLO 3-bit signed map, first moment. */
    static float[] signed3() {
        return new float[] {-0.775f, -0.325f, -0.055f, 0f, 0.055f, 0.325f, 0.775f, 1f};
    }
}
