package io.galore4j.quant;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.math3.random.Well19937c;
import org.junit.jupiter.api.Test;

/**
 * Round-trip error of every codec on a seeded heavy-tailed sample (Student-t, ν = 3, scaled by
 * 10⁻³ — gradient-like first moments; its square for second moments and Student-t itself for
 * the weight quantizers). Metrics: relative L2 error ‖x̂ − x‖₂ / ‖x‖₂, and the median over
 * non-zero x of the element relative error |x̂ − x| / |x|. Prints the README table; each row
 * must stay under the L2 bound stated here (about 1.5× the measured value, rounded up).
 */
class CodecErrorTableTest {
    static final int ROWS = 256;
    static final int COLS = 512;

    /** codec → upper bound on the relative L2 error. */
    private static final Map<String, Double> L2_BOUNDS = new LinkedHashMap<>();

    static {
        L2_BOUNDS.put("INT8 group (weights)", 0.02);
        L2_BOUNDS.put("INT4 group (weights)", 0.3);
        L2_BOUNDS.put("fp32/FIRST", 0.0);
        L2_BOUNDS.put("dynamic8/FIRST", 0.05);
        L2_BOUNDS.put("de4/FIRST", 0.5);
        L2_BOUNDS.put("signed2/FIRST", 1.0);
        L2_BOUNDS.put("signed3/FIRST", 0.8);
        L2_BOUNDS.put("softsign8/FIRST", 0.05);
        L2_BOUNDS.put("fp32/SECOND", 0.0);
        L2_BOUNDS.put("dynamic8/SECOND", 0.05);
        L2_BOUNDS.put("linear4nz/SECOND", 1.0); // absmax blocks, no zero: small v round up to Δ/16
        L2_BOUNDS.put("linear4nz-rank1/SECOND", 0.5);
        L2_BOUNDS.put("log2/SECOND", 1.5);
        L2_BOUNDS.put("log3/SECOND", 1.0);
        L2_BOUNDS.put("sqrt8/SECOND", 0.05);
    }

    static float[] studentT(long seed, int n, double scale) {
        // t_ν = Z / sqrt(χ²_ν / ν) with χ²_3 a sum of three squared normals (commons-math3 Well19937c, seeded)
        Well19937c rng = new Well19937c(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            double a = rng.nextGaussian();
            double b = rng.nextGaussian();
            double c = rng.nextGaussian();
            x[i] = (float) (rng.nextGaussian() / Math.sqrt((a * a + b * b + c * c) / 3) * scale);
        }
        return x;
    }

    static double[] errors(float[] x, float[] y) {
        double num = 0;
        double den = 0;
        double[] rel = new double[x.length];
        int m = 0;
        for (int i = 0; i < x.length; i++) {
            double d = (double) y[i] - x[i];
            num += d * d;
            den += (double) x[i] * x[i];
            if (x[i] != 0) {
                rel[m++] = Math.abs(d / x[i]);
            }
        }
        Arrays.sort(rel, 0, m);
        return new double[] {Math.sqrt(num / den), rel[m / 2]};
    }

    @Test
    void everyCodecStaysUnderItsStatedErrorBound() {
        int n = ROWS * COLS;
        float[] first = studentT(1, n, 1e-3);
        float[] second = new float[n];
        for (int i = 0; i < n; i++) {
            second[i] = first[i] * first[i];
        }
        float[] weights = studentT(2, n, 0.02);
        List<String> rows = new ArrayList<>();
        rows.add("| codec | moment | bits/element | rel. L2 error | median rel. error | L2 bound |");
        rows.add("|---|---|---|---|---|---|");
        List<String> failures = new ArrayList<>();
        for (int bits : new int[] {8, 4}) {
            GroupQuantizer gq = new GroupQuantizer(bits);
            QuantizedTensor q = gq.quantize(weights, 0, n, Rounding.NEAREST, null);
            float[] y = new float[n];
            gq.dequantize(q, y, 0);
            record("INT" + bits + " group (weights)", "weights", 8.0 * q.bytes() / n, errors(weights, y), rows, failures);
        }
        for (Moment m : Moment.values()) {
            float[] x = m == Moment.FIRST ? first : second;
            for (String name : StateCodec.names(m)) {
                StateCodec codec = StateCodec.of(name, m);
                EncodedState s = codec.allocate(ROWS, COLS);
                codec.encode(x, 0, s, new RoundingRng(3));
                float[] y = new float[n];
                codec.decode(s, y, 0);
                record(name + "/" + m, m.toString(), 8.0 * s.bytes() / n, errors(x, y), rows, failures);
            }
        }
        System.out.println(String.join("\n", rows));
        assertTrue(failures.isEmpty(), String.join("; ", failures));
    }

    private static void record(String key, String moment, double bitsPerElement, double[] e,
                               List<String> rows, List<String> failures) {
        double bound = L2_BOUNDS.get(key);
        rows.add(String.format("| %s | %s | %.3f | %.4f | %.4f | %.2f |",
                key.replace("/" + moment, ""), moment, bitsPerElement, e[0], e[1], bound));
        if (!(e[0] <= bound)) {
            failures.add(key + ": rel. L2 error " + e[0] + " > " + bound);
        }
    }
}
