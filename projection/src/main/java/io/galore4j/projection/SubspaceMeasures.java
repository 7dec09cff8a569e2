package io.galore4j.projection;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The numbers a refresh reports (docs/design.md §3), computed on contiguous c-order arrays. */
final class SubspaceMeasures {
    private SubspaceMeasures() {}

    /** ‖G‖²_F accumulated in double; a NaN or Inf entry is an IllegalArgumentException. */
    static double squaredNorm(INDArray g, String layer) {
        double sum = 0;
        if (g.dataType() == DataType.FLOAT) {
            FloatBuffer b = g.data().asNioFloat();
            int off = (int) g.offset();
            int len = (int) g.length();
            for (int i = 0; i < len; i++) {
                double v = b.get(off + i);
                sum += v * v;
            }
        } else {
            DoubleBuffer b = g.data().asNioDouble();
            int off = (int) g.offset();
            int len = (int) g.length();
            for (int i = 0; i < len; i++) {
                double v = b.get(off + i);
                sum += v * v;
            }
        }
        if (!Double.isFinite(sum)) {
            throw new IllegalArgumentException("gradient: layer " + layer + " has NaN or infinite values");
        }
        return sum;
    }

    /** Throws if a contiguous FLOAT or DOUBLE array holds NaN or Inf. */
    static void requireFinite(INDArray a, String what) {
        int len = (int) a.length();
        int off = (int) a.offset();
        if (a.dataType() == DataType.FLOAT) {
            FloatBuffer b = a.data().asNioFloat();
            for (int i = 0; i < len; i++) {
                if (!Float.isFinite(b.get(off + i))) {
                    throw new IllegalArgumentException(what + " has NaN or infinite values");
                }
            }
        } else {
            DoubleBuffer b = a.data().asNioDouble();
            for (int i = 0; i < len; i++) {
                if (!Double.isFinite(b.get(off + i))) {
                    throw new IllegalArgumentException(what + " has NaN or infinite values");
                }
            }
        }
    }

    /** Subspace overlap ‖C‖²_F / r of C = P_newᵀ P_old (r×r). */
    static double overlapFromRotation(INDArray c) {
        double ss = 0;
        FloatBuffer b = c.data().asNioFloat();
        int len = (int) c.length();
        for (int i = 0; i < len; i++) {
            double v = b.get(i);
            ss += v * v;
        }
        return ss / c.rows();
    }

    /** Overlap ‖P_aᵀ P_b‖²_F / r of two bases given as r×d transposes with orthonormal rows. */
    static double overlap(INDArray aT, INDArray bT) {
        INDArray c = Nd4j.createUninitialized(DataType.FLOAT, aT.rows(), bT.rows());
        try {
            Nd4j.gemm(aT.castTo(DataType.FLOAT), bT.castTo(DataType.FLOAT), c, false, true, 1.0, 0.0);
            return overlapFromRotation(c);
        } finally {
            c.close();
        }
    }

    /** Σ_{i≤r} σ_i² / ‖G‖²_F, at most 1 (σ from a randomized SVD can only under-count). */
    static double energy(float[] sigma, int rank, double totalEnergy) {
        if (totalEnergy == 0) {
            return Double.NaN;
        }
        double captured = 0;
        for (int i = 0; i < Math.min(rank, sigma.length); i++) {
            captured += (double) sigma[i] * sigma[i];
        }
        return Math.min(1.0, captured / totalEnergy);
    }

    /** The first (up to) k values, as doubles. */
    static double[] leading(float[] sigma, int k) {
        double[] out = new double[Math.min(k, sigma.length)];
        for (int i = 0; i < out.length; i++) {
            out[i] = sigma[i];
        }
        return out;
    }
}
