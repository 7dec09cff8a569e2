package io.galore4j.galore;

import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.linear.SingularValueDecomposition;

/**
 * GaLore's step for one m×n weight in double precision, written from the formulas (docs/design.md §3)
 * and independent of the optimizer under test:
 * <pre>
 *   R = Pᵀ G (left, m &lt; n) or G P (right), P the d×r basis
 *   M, V ← Adam moments of R;  N = M̂ / (√V̂ + ε)  (bias correction over the parameter's steps)
 *   ΔW = α P N or α N Pᵀ;  W ← W − η(ΔW + λW)
 * </pre>
 * The basis is either given ({@link #step}) or computed here ({@link #basis}: Commons Math's SVD
 * in double, the top r singular vectors on the smaller side, with the projection module's sign
 * convention written again). {@code rotate} carries the moments into a new basis:
 * M' = C M, V' = (C∘C) V (left) or M Cᵀ, V (C∘C)ᵀ (right), C = P_newᵀ P_old.
 */
final class GaloreFloat64 {
    final int m;
    final int n;
    final int rank;
    final boolean left;
    final double[] w;
    private final double alpha;
    private final double b1;
    private final double b2;
    private final double eps;
    private double[] mom;
    private double[] vel;
    private double[][] previous;
    private int t;
    /** The largest change of a first-moment element by the last rotation (0 if none). */
    double rotationEffect;

    GaloreFloat64(float[] w0, int m, int n, int rank, double alpha, double b1, double b2, double eps) {
        this.m = m;
        this.n = n;
        this.rank = rank;
        this.left = m < n;
        this.w = new double[w0.length];
        for (int i = 0; i < w0.length; i++) {
            w[i] = w0[i];
        }
        this.alpha = alpha;
        this.b1 = b1;
        this.b2 = b2;
        this.eps = eps;
    }

    /**
     * The top-r singular vectors of G (m×n, row-major) on the smaller side as a d×r matrix, each
     * column signed so that its dot product with the same column of {@code previous} is positive,
     * or, with no previous basis (null) or a zero dot product, so that its largest-magnitude
     * component (the first on ties) is positive.
     */
    static double[][] basis(float[] g, int m, int n, int rank, double[][] previous) {
        double[][] a = new double[m][n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                a[i][j] = g[i * n + j];
            }
        }
        SingularValueDecomposition svd = new SingularValueDecomposition(new Array2DRowRealMatrix(a, false));
        RealMatrix factor = m < n ? svd.getU() : svd.getV();
        int d = factor.getRowDimension();
        double[][] p = new double[d][rank];
        for (int k = 0; k < rank; k++) {
            double dot = 0;
            double largest = 0;
            for (int i = 0; i < d; i++) {
                double v = factor.getEntry(i, k);
                dot += previous == null ? 0 : v * previous[i][k];
                largest = Math.abs(v) > Math.abs(largest) ? v : largest;
            }
            double sign = (dot != 0 ? dot : largest) < 0 ? -1 : 1;
            for (int i = 0; i < d; i++) {
                p[i][k] = sign * factor.getEntry(i, k);
            }
        }
        return p;
    }

    /** One update with gradient g and basis p (d×r); a changed basis is a refresh. */
    void step(float[] g, double[][] p, double lr, double wd, boolean rotate) {
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
        } else if (rotate && p != previous) {
            rotateInto(p, rr, rc);
        }
        previous = p;
        t++;
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
                w[i * n + j] -= lr * (alpha * dw + wd * w[i * n + j]);
            }
        }
    }

    /** M' = C M, V' = (C∘C) V (left) or M Cᵀ, V (C∘C)ᵀ (right), C = P_newᵀ P_old. */
    private void rotateInto(double[][] p, int rr, int rc) {
        int d = p.length;
        double[][] c = new double[rank][rank];
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
}
