package io.galore4j.projection;

import java.nio.FloatBuffer;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Seeded test matrices with a known singular value decomposition. */
public final class TestMatrices {
    private TestMatrices() {}

    public static INDArray gaussian(long rows, long cols, long seed) {
        INDArray a = Nd4j.createUninitialized(DataType.FLOAT, rows, cols);
        SplittableRandom rng = new SplittableRandom(seed);
        FloatBuffer b = a.data().asNioFloat();
        for (int i = 0; i < a.length(); i++) {
            b.put(i, (float) rng.nextGaussian());
        }
        return a;
    }

    /** A rows×cols (rows ≥ cols) matrix with orthonormal columns, returned transposed: cols×rows, orthonormal rows. */
    public static INDArray orthonormalRows(int count, int dim, long seed) {
        INDArray t = gaussian(count, dim, seed);           // c-order count×dim = column-major dim×count
        Lapack.orthonormalizeColumns(Lapack.pointer(t), dim, count);
        return t;
    }

    /** G = U diag(σ) Vᵀ (m×n) with seeded random orthonormal U (m×k) and V (n×k), k = σ.length. */
    public static INDArray withSpectrum(int m, int n, double[] sigma, long seed) {
        int k = sigma.length;
        INDArray uT = orthonormalRows(k, m, seed);
        INDArray vT = orthonormalRows(k, n, seed + 1);
        INDArray scaled = uT.dup();
        for (int i = 0; i < k; i++) {
            scaled.getRow(i).muli(sigma[i]);
        }
        INDArray g = Nd4j.createUninitialized(DataType.FLOAT, m, n);
        Nd4j.gemm(scaled, vT, g, true, false, 1.0, 0.0);    // Σ_i σ_i u_i v_iᵀ
        return g;
    }

    /** σ_i = 1 / i^power, i = 1..k. */
    public static double[] powerLaw(int k, double power) {
        double[] s = new double[k];
        for (int i = 0; i < k; i++) {
            s[i] = 1.0 / Math.pow(i + 1, power);
        }
        return s;
    }

    /** max |P Pᵀ − I| for a basis given as r×d with (supposedly) orthonormal rows. */
    public static double orthonormalityError(INDArray pT) {
        INDArray p = pT.castTo(DataType.DOUBLE);
        INDArray gram = p.mmul(p.transpose());
        return gram.subi(Nd4j.eye(p.rows()).castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
    }

    public static double relativeError(INDArray actual, INDArray expected) {
        INDArray a = actual.castTo(DataType.DOUBLE);
        INDArray e = expected.castTo(DataType.DOUBLE);
        return a.sub(e).norm2Number().doubleValue() / e.norm2Number().doubleValue();
    }
}
