package io.galore4j.trainer.run;

import io.galore4j.trainer.model.OneDnn;
import org.nd4j.linalg.api.blas.Blas;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The thread count of the BLAS that runs the model's matrix products ({@code train.blas_threads}).
 *
 * <p>0 means the BLAS's own default (one thread per core). A second thread helps when the cores
 * are free; on a machine shared with other work it waits for a core while the step's thread spins
 * in {@code sched_yield}, so set 1 there (docs/design.md §5; docs/benchmarks.md, BLAS threads).
 */
public final class BlasThreads {

    /** The BLAS's own count, read before anything here changes it. */
    private static final int BLAS_DEFAULT = blas().getMaxThreads();

    private BlasThreads() {
    }

    /**
     * The BLAS library JavaCPP loaded for ND4J: {@code mkl_rt} when MKL was asked for
     * ({@code -Dorg.bytedeco.openblas.load=mkl_rt}, which the launcher sets when MKL is on the
     * classpath), else {@code openblas}.
     */
    public static String library() {
        return System.getProperty("org.bytedeco.openblas.load", "openblas");
    }

    /** The thread count the BLAS runs with now. */
    public static int current() {
        return blas().getMaxThreads();
    }

    /** The BLAS's own thread count (what it runs with unless told otherwise). */
    public static int blasDefault() {
        return BLAS_DEFAULT;
    }

    /** The count {@code setting} stands for on this machine (0: automatic; else the setting). */
    public static int resolve(int setting) {
        if (setting < 0) {
            throw new IllegalArgumentException("train.blas_threads must be >= 0, got " + setting);
        }
        if (setting > 0) {
            return setting;
        }
        return BLAS_DEFAULT;
    }

    /**
     * Applies {@link #resolve(int) resolve(setting)} to the BLAS, and to oneDNN's bf16 products when
     * they run ({@link OneDnn#threads}), and returns the count applied.
     */
    public static int apply(int setting) {
        int n = resolve(setting);
        blas().setMaxThreads(n);
        OneDnn.threads(n);
        return n;
    }

    private static Blas blas() {
        return Nd4j.factory().blas();
    }
}
