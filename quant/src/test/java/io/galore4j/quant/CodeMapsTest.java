package io.galore4j.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Each map-based codec decodes to its published levels. */
class CodeMapsTest {

    static float[] reference(String resource) throws IOException {
        float[] map = new float[256];
        int n = 0;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(
                CodeMapsTest.class.getResourceAsStream("/" + resource), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (!line.startsWith("#") && !line.isBlank()) {
                    map[n++] = Float.parseFloat(line.trim());
                }
            }
        }
        assertEquals(256, n, resource);
        return map;
    }

    @Test
    void dynamicMapsEqualTheBitsandbytesTablesBitForBit() throws IOException {
        assertArrayEquals(reference("dynamic8_signed.txt"), CodeMaps.dynamic8(true));
        assertArrayEquals(reference("dynamic8_unsigned.txt"), CodeMaps.dynamic8(false));
    }

    /** Encoding the published levels themselves (block absmax 1) decodes to exactly those levels. */
    @ParameterizedTest
    @CsvSource({"dynamic8, FIRST, dynamic8_signed.txt", "dynamic8, SECOND, dynamic8_unsigned.txt"})
    void dynamic8DecodesToTheReferenceLevels(String name, Moment moment, String resource) throws IOException {
        float[] levels = reference(resource);
        assertDecodesTo(StateCodec.of(name, moment), levels);
    }

    @Test
    void smallMapsDecodeToTheirPublishedValues() {
        assertDecodesTo(StateCodec.of("de4", Moment.FIRST), new float[] {-0.8875f, -0.6625f, -0.4375f, -0.2125f,
                -0.0775f, -0.0325f, -0.0055f, 0f, 0.0055f, 0.0325f, 0.0775f, 0.2125f, 0.4375f, 0.6625f, 0.8875f, 1f});
        float[] linear = new float[16];
        for (int k = 0; k < 16; k++) {
            linear[k] = (k + 1) / 16f;
        }
        assertDecodesTo(StateCodec.of("linear4nz", Moment.SECOND), linear);
        // rank-1: a second row of ones makes every scale min(1, 1) = 1
        StateCodec rank1 = StateCodec.of("linear4nz-rank1", Moment.SECOND);
        EncodedState s = rank1.allocate(2, 16);
        float[] twoRows = new float[32];
        System.arraycopy(linear, 0, twoRows, 0, 16);
        java.util.Arrays.fill(twoRows, 16, 32, 1f);
        rank1.encode(twoRows, 0, s, null);
        float[] out = new float[32];
        rank1.decode(s, out, 0);
        assertArrayEquals(twoRows, out);
        assertDecodesTo(StateCodec.of("signed2", Moment.FIRST), new float[] {-0.55f, 0f, 0.55f, 1f});
        assertDecodesTo(StateCodec.of("signed3", Moment.FIRST),
                new float[] {-0.775f, -0.325f, -0.055f, 0f, 0.055f, 0.325f, 0.775f, 1f});
    }

    /** Every level encodes to itself, and a value just off a level still decodes to that level. */
    private static void assertDecodesTo(StateCodec codec, float[] levels) {
        int n = levels.length;
        EncodedState s = codec.allocate(1, n);
        codec.encode(levels, 0, s, null);
        float[] out = new float[n];
        codec.decode(s, out, 0);
        assertArrayEquals(levels, out, codec.name());
        float[] nudged = new float[n];
        for (int k = 0; k < n; k++) {
            nudged[k] = levels[k] == 1f || levels[k] == 0f ? levels[k] : levels[k] + Math.ulp(levels[k]);
        }
        codec.encode(nudged, 0, s, null);
        codec.decode(s, out, 0);
        assertArrayEquals(levels, out, codec.name() + " nudged");
    }

    @Test
    void fastNearestLookupEqualsBinarySearch() {
        for (float[] map : allMaps()) {
            NearestCode nearest = new NearestCode(map);
            Random r = new Random(1);
            for (int i = 0; i < 200_000; i++) {
                float y = switch (i % 3) {
                    case 0 -> r.nextFloat() * 2 - 1;
                    case 1 -> (float) (Math.signum(r.nextGaussian()) * Math.pow(10, -9 * r.nextDouble()));
                    default -> Math.nextAfter(map[r.nextInt(map.length)], r.nextBoolean() ? 2 : -2);
                };
                assertEquals(nearest.indexByBinarySearch(y), nearest.index(y), () -> "y=" + y);
            }
            for (int k = 0; k + 1 < map.length; k++) { // exact midpoints and their neighbours
                float mid = (float) (((double) map[k] + map[k + 1]) / 2);
                for (float y : new float[] {mid, Math.nextUp(mid), Math.nextDown(mid)}) {
                    assertEquals(nearest.indexByBinarySearch(y), nearest.index(y), () -> "y=" + y);
                    int c = nearest.index(y);
                    for (float level : map) {
                        assertTrue(Math.abs(map[c] - y) <= Math.abs(level - y) + 2 * Math.ulp(y),
                                () -> "not nearest at y=" + y);
                    }
                }
            }
        }
    }

    /**
     * The bulk lookups through the direct table (8-bit codes, and 4-bit codes packed in pairs)
     * equal the binary search on both sides of every direct bucket edge, at the midpoints and
     * the levels' neighbours, and on random bit patterns; with a zero code, a positive value
     * nearest to level 0 gets the next code.
     */
    @Test
    void bulkLookupsThroughTheDirectTableEqualBinarySearch() {
        for (float[] map : allMaps()) {
            NearestCode nearest = new NearestCode(map);
            java.util.List<Float> ys = new java.util.ArrayList<>();
            for (long b = 0; b < 1L << (32 - nearest.directShift()); b++) {
                int edge = (int) (b << nearest.directShift());
                for (int bits : new int[] {edge, edge - 1, edge + 1}) {
                    ys.add(Float.intBitsToFloat(bits));
                }
            }
            for (int k = 0; k + 1 < map.length; k++) {
                float mid = (float) (((double) map[k] + map[k + 1]) / 2);
                ys.addAll(java.util.List.of(mid, Math.nextUp(mid), Math.nextDown(mid), map[k], Math.nextUp(map[k])));
            }
            Random r = new Random(3);
            for (int i = 0; i < 100_000; i++) {
                ys.add(Float.intBitsToFloat(r.nextInt()));
            }
            ys.removeIf(y -> Float.isNaN(y));
            float[] y = new float[ys.size()];
            for (int i = 0; i < y.length; i++) {
                y[i] = ys.get(i);
            }
            int zero = -1;
            for (int k = 0; k < map.length; k++) {
                zero = map[k] == 0f ? k : zero;
            }
            byte[] codes = new byte[y.length];
            nearest.indices(y, 0, y.length, 1f, -1, codes, 0);
            byte[] raised = new byte[y.length];
            nearest.indices(y, 0, y.length, 1f, zero, raised, 0);
            byte[] packed = new byte[(y.length + 1) / 2];
            nearest.indices4(y, 0, y.length, 1f, -1, packed, 0);
            for (int i = 0; i < y.length; i++) {
                int expected = nearest.indexByBinarySearch(y[i]);
                float v = y[i];
                assertEquals(expected, codes[i] & 0xFF, () -> "y=" + v);
                int up = expected == zero && v > 0 ? expected + 1 : expected;
                assertEquals(up, raised[i] & 0xFF, () -> "raised, y=" + v);
                if (map.length <= 16) {
                    assertEquals(expected, (packed[i >>> 1] >>> (4 * (i & 1))) & 0xF, () -> "4-bit, y=" + v);
                }
            }
        }
    }

    private static float[][] allMaps() {
        return new float[][] {CodeMaps.dynamic8(true), CodeMaps.dynamic8(false), CodeMaps.de4(), CodeMaps.signed2(),
                CodeMaps.signed3(), CodeMaps.linear4NoZero()};
    }

    @Test
    void nearestLookupEqualsBinarySearchAtBucketEdgesAndSpecialValues() {
        float[][] maps = allMaps();
        float[][] all = java.util.Arrays.copyOf(maps, maps.length + 1);
        all[maps.length] = new float[] {-1f, 0f, 1f, Math.nextUp(1f), Math.nextUp(Math.nextUp(1f)), 2f}; // too dense
        for (float[] map : all) {
            NearestCode nearest = new NearestCode(map);
            if (map != all[maps.length]) {
                assertTrue(nearest.singleStep(), "project maps get one comparison per lookup");
            } else {
                assertTrue(!nearest.singleStep(), "a map with thresholds one ulp apart needs the scan");
            }
            java.util.List<Float> ys = new java.util.ArrayList<>(java.util.List.of(0f, -0f, Float.MIN_VALUE,
                    -Float.MIN_VALUE, Float.MIN_NORMAL, Float.MAX_VALUE, -Float.MAX_VALUE, Float.POSITIVE_INFINITY,
                    Float.NEGATIVE_INFINITY, 1f, -1f, Math.nextUp(1f), Math.nextDown(-1f)));
            int shift = nearest.shift();
            for (long key = Integer.MIN_VALUE; key <= Integer.MAX_VALUE; key += 1L << shift) {
                for (long k : new long[] {key, key - 1, key + 1}) { // both sides of every bucket edge
                    if (k >= Integer.MIN_VALUE && k <= Integer.MAX_VALUE) {
                        int bits = (int) k >= 0 ? (int) k : (int) k ^ 0x7FFFFFFF;
                        ys.add(Float.intBitsToFloat(bits));
                    }
                }
            }
            for (float y : ys) {
                if (!Float.isNaN(y)) {
                    assertEquals(nearest.indexByBinarySearch(y), nearest.index(y), () -> "y=" + y);
                }
            }
            Random r = new Random(2);
            for (int i = 0; i < 200_000; i++) {
                float y = Float.intBitsToFloat(r.nextInt()); // every magnitude and sign
                if (!Float.isNaN(y)) {
                    assertEquals(nearest.indexByBinarySearch(y), nearest.index(y), () -> "y=" + y);
                }
            }
        }
    }
}
