package io.galore4j.galore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Three fp32 GaLore steps equal a double-precision reference written from the formulas
 * (DESIGN.md §3): R = PᵀG (left) or GP (right), Adam on R with bias correction, ΔW = α·PN or
 * α·NPᵀ, W ← W − η(ΔW + λW). The basis P is taken from the optimizer's projector (computing
 * it is the projection module's job, tested there). With a refresh every step, {@code keep}
 * leaves the moments as they are and {@code rotate} first carries them into the new basis:
 * M' = C M, V' = max(0, (C∘C) V) (left) or M Cᵀ, V (C∘C)ᵀ (right), C = P_newᵀ P_old.
 */
class GaloreStepTest {

    @ParameterizedTest(name = "{0}x{1} rank {2}, refresh every {3}, {4}")
    @CsvSource({"32, 48, 8, 100, keep", "48, 32, 8, 100, keep", "32, 48, 8, 1, keep", "48, 32, 8, 1, keep",
            "32, 48, 8, 1, rotate", "48, 32, 8, 1, rotate"})
    void stepsMatchReference(int m, int n, int rank, int gap, String onRefresh) {
        Random rnd = new Random(7);
        float[] w0 = TestArrays.gaussian(rnd, m * n, 1.0);
        double lr = 0.01;
        double wd = 0.1;
        double alpha = 0.25;
        double b1 = 0.9;
        double b2 = 0.999;
        double eps = 1e-8;
        OptimSettings s = OptimSettings.from(Map.of("method", "galore", "projection", "w", "rank", rank,
                "weight_decay", wd, "refresh_gap", gap, "on_refresh", onRefresh));
        try (LayerwiseOptimizer opt = LayerwiseOptimizer.create(s, 1)) {
            opt.add("w", TestArrays.matrix(w0, m, n));
            double[] w = toDouble(w0);
            boolean left = m < n;
            double[] mom = null;
            double[] vel = null;
            double[][] previous = null;
            double rotationEffect = 0;
            for (int t = 1; t <= 3; t++) {
                float[] g = TestArrays.gaussian(rnd, m * n, 0.5);
                opt.update("w", TestArrays.matrix(g, m, n), lr, 1.0);
                opt.endStep();
                // P (d×r) from the projector's Pᵀ (r×d)
                INDArray pt = opt.galore("w").projector().basisTransposed();
                int d = left ? m : n;
                double[][] p = new double[d][rank];
                for (int k = 0; k < rank; k++) {
                    for (int i = 0; i < d; i++) {
                        p[i][k] = pt.getDouble(k, i);
                    }
                }
                int rr = left ? rank : m;
                int rc = left ? n : rank;
                double[] r = new double[rr * rc];
                for (int i = 0; i < rr; i++) {
                    for (int j = 0; j < rc; j++) {
                        double acc = 0;
                        if (left) { // R = Pᵀ G
                            for (int k = 0; k < m; k++) {
                                acc += p[k][i] * g[k * n + j];
                            }
                        } else {    // R = G P
                            for (int k = 0; k < n; k++) {
                                acc += g[i * n + k] * p[k][j];
                            }
                        }
                        r[i * rc + j] = acc;
                    }
                }
                if (mom == null) {
                    mom = new double[r.length];
                    vel = new double[r.length];
                } else if (onRefresh.equals("rotate")) {
                    double[][] c = new double[rank][rank]; // C = P_newᵀ P_old
                    for (int a = 0; a < rank; a++) {
                        for (int b = 0; b < rank; b++) {
                            for (int i = 0; i < d; i++) {
                                c[a][b] += p[i][a] * previous[i][b];
                            }
                        }
                    }
                    double[] m2 = new double[mom.length];
                    double[] v2 = new double[vel.length];
                    for (int i = 0; i < rr; i++) {
                        for (int j = 0; j < rc; j++) {
                            for (int k = 0; k < rank; k++) {
                                double cw = left ? c[i][k] : c[j][k];
                                int src = left ? k * rc + j : i * rc + k;
                                m2[i * rc + j] += cw * mom[src];
                                v2[i * rc + j] += cw * cw * vel[src];
                            }
                            rotationEffect = Math.max(rotationEffect, Math.abs(m2[i * rc + j] - mom[i * rc + j]));
                        }
                    }
                    mom = m2;
                    vel = v2;
                }
                previous = p;
                double[] nrm = new double[r.length];
                for (int i = 0; i < r.length; i++) {
                    mom[i] = b1 * mom[i] + (1 - b1) * r[i];
                    vel[i] = b2 * vel[i] + (1 - b2) * r[i] * r[i];
                    double mhat = mom[i] / (1 - Math.pow(b1, t));
                    double vhat = vel[i] / (1 - Math.pow(b2, t));
                    nrm[i] = mhat / (Math.sqrt(vhat) + eps);
                }
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double dw = 0;
                        if (left) { // ΔW = α P N
                            for (int k = 0; k < rank; k++) {
                                dw += p[i][k] * nrm[k * n + j];
                            }
                        } else {    // ΔW = α N Pᵀ
                            for (int k = 0; k < rank; k++) {
                                dw += nrm[i * rank + k] * p[j][k];
                            }
                        }
                        dw *= alpha;
                        w[i * n + j] -= lr * (dw + wd * w[i * n + j]);
                    }
                }
                float[] actual = TestArrays.values(opt.weight("w"));
                double err = TestArrays.relativeError(actual, w);
                assertTrue(err <= 1e-6, "step " + t + ": relative error " + err);
            }
            List<?> events = opt.drainRefreshEvents();
            int refreshes = gap == 1 ? 3 : 1;
            assertEquals(refreshes, events.size(), "refreshes in 3 steps with gap " + gap);
            assertEquals(refreshes, opt.svdCount());
            if (onRefresh.equals("rotate")) {
                assertTrue(rotationEffect > 1e-3, "the rotation changes M: " + rotationEffect);
            }
        }
    }

    private static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }
}
