package io.galore4j.galore;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

/**
 * The short GaLore run {@code CrossBlasTest} compares between BLAS builds (one JVM loads one):
 * three weights (48×32 with a right basis, 32×48 with a left one, 40×40), rank 8, exact SVD,
 * fixed gap 2 over {@link #STEPS} steps, so refreshes at steps 0, 2 and 4 (two after the first),
 * {@code on_refresh: keep}, fp32 weights, states and basis. The gradients are fixed, seeded and
 * independent of the weights: a decaying low-rank part common to all steps plus fresh noise, so
 * consecutive bases are close (as in training) and a sign that differs between builds meets the
 * kept moments. {@code main(out)} runs it in this JVM and writes the loaded BLAS, the weights and
 * the error of its updates against {@link GaloreFloat64} ({@link #float64Error}) to {@code out}.
 */
public final class BlasRun {
    static final int STEPS = 5;
    static final int GAP = 2;
    static final int RANK = 8;
    static final double LR = 0.01;
    static final double WEIGHT_DECAY = 0.1;
    static final int[][] SHAPES = {{48, 32}, {32, 48}, {40, 40}};

    private BlasRun() {
    }

    /** "mkl" or "openblas": which BLAS library this process has mapped. */
    static String loadedBlas() {
        try {
            String maps = Files.readString(Path.of("/proc/self/maps"));
            return maps.contains("libmkl_rt") ? "mkl" : maps.contains("libopenblas") ? "openblas" : "unknown";
        } catch (IOException e) {
            return "unknown";
        }
    }

    static OptimSettings settings() {
        return OptimSettings.from(Map.of("method", "galore", "projection", "w.*", "rank", RANK, "svd", "exact",
                "refresh", "fixed", "refresh_gap", GAP, "on_refresh", "keep", "weight_decay", WEIGHT_DECAY));
    }

    static String name(int i) {
        return "w" + i;
    }

    static float[] initial(int i) {
        int[] s = SHAPES[i];
        return TestArrays.gaussian(new Random(100 + i), s[0] * s[1], 0.02);
    }

    /** The gradients of parameter i, one per step. */
    static float[][] gradients(int i) {
        int m = SHAPES[i][0];
        int n = SHAPES[i][1];
        Random rnd = new Random(200 + i);
        double[] common = new double[m * n];
        for (int k = 0; k < 12; k++) {               // Σ_k 2^(-k/2) x_k y_kᵀ
            double s = Math.pow(2, -k / 2.0);
            double[] x = new double[m];
            double[] y = new double[n];
            for (int a = 0; a < m; a++) {
                x[a] = rnd.nextGaussian();
            }
            for (int b = 0; b < n; b++) {
                y[b] = rnd.nextGaussian();
            }
            for (int a = 0; a < m; a++) {
                for (int b = 0; b < n; b++) {
                    common[a * n + b] += s * x[a] * y[b];
                }
            }
        }
        float[][] g = new float[STEPS][m * n];
        for (int t = 0; t < STEPS; t++) {
            for (int j = 0; j < m * n; j++) {
                g[t][j] = (float) (common[j] + 0.3 * rnd.nextGaussian());
            }
        }
        return g;
    }

    /** The weights after each step: [parameter][step][element]. */
    static float[][][] run() {
        float[][][] out = new float[SHAPES.length][STEPS][];
        float[][][] grads = new float[SHAPES.length][][];
        for (int i = 0; i < SHAPES.length; i++) {
            grads[i] = gradients(i);
        }
        try (LayerwiseOptimizer opt = LayerwiseOptimizer.create(settings(), 1)) {
            for (int i = 0; i < SHAPES.length; i++) {
                opt.add(name(i), TestArrays.matrix(initial(i), SHAPES[i][0], SHAPES[i][1]));
            }
            for (int t = 0; t < STEPS; t++) {
                for (int i = 0; i < SHAPES.length; i++) {
                    opt.update(name(i), TestArrays.matrix(grads[i][t], SHAPES[i][0], SHAPES[i][1]), LR, 1.0);
                    out[i][t] = TestArrays.values(opt.weight(name(i)));
                }
                opt.endStep();
            }
            if (opt.svdCount() != 3L * SHAPES.length) {
                throw new IllegalStateException("expected 3 refreshes per weight, got " + opt.svdCount());
            }
        }
        return out;
    }

    /** What one process measured: the BLAS it loaded, the weights of {@link #run}, the float64 check's error. */
    record Result(String blas, float[][][] weights, double float64Error) {

        void write(Path file) throws IOException {
            try (DataOutputStream o = new DataOutputStream(Files.newOutputStream(file))) {
                o.writeUTF(blas);
                o.writeDouble(float64Error);
                for (float[][] param : weights) {
                    for (float[] step : param) {
                        o.writeInt(step.length);
                        for (float v : step) {
                            o.writeFloat(v);
                        }
                    }
                }
            }
        }

        static Result read(Path file) throws IOException {
            try (DataInputStream in = new DataInputStream(Files.newInputStream(file))) {
                String blas = in.readUTF();
                double err = in.readDouble();
                float[][][] w = new float[SHAPES.length][STEPS][];
                for (float[][] param : w) {
                    for (int t = 0; t < STEPS; t++) {
                        param[t] = new float[in.readInt()];
                        for (int j = 0; j < param[t].length; j++) {
                            param[t][j] = in.readFloat();
                        }
                    }
                }
                return new Result(blas, w, err);
            }
        }
    }

    static Result measure() {
        float[][][] weights = run();
        return new Result(loadedBlas(), weights, float64Error(weights)); // after the run: the BLAS loads with ND4J
    }

    /**
     * The largest difference between the update ΔW_t = W_t − W_{t−1} of {@link #run} and that of
     * {@link GaloreFloat64} (its own double SVD every {@link #GAP} steps, moments kept), over the
     * parameters and steps, each relative to the largest |ΔW_t| of the double run at that step.
     */
    static double float64Error(float[][][] weights) {
        double worst = 0;
        for (int i = 0; i < SHAPES.length; i++) {
            int m = SHAPES[i][0];
            int n = SHAPES[i][1];
            float[] before = initial(i);
            float[][] grads = gradients(i);
            GaloreFloat64 ref = new GaloreFloat64(before, m, n, RANK, 0.25, 0.9, 0.999, 1e-8);
            double[][] p = null;
            for (int t = 0; t < STEPS; t++) {
                if (t % GAP == 0) {
                    p = GaloreFloat64.basis(grads[t], m, n, RANK, p);
                }
                double[] refBefore = ref.w.clone();
                ref.step(grads[t], p, LR, WEIGHT_DECAY, false);
                float[] after = weights[i][t];
                double diff = 0;
                double size = 0;
                for (int j = 0; j < after.length; j++) {
                    double update64 = ref.w[j] - refBefore[j];
                    diff = Math.max(diff, Math.abs((double) after[j] - before[j] - update64));
                    size = Math.max(size, Math.abs(update64));
                }
                worst = Math.max(worst, diff / size);
                before = after;
            }
        }
        return worst;
    }

    public static void main(String[] args) throws IOException {
        measure().write(Path.of(args[0]));
        System.exit(0);
    }
}
