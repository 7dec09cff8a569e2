package io.galore4j.trainer.run;

import org.nd4j.linalg.api.blas.Blas;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The thread count of the BLAS that runs the model's matrix products ({@code train.blas_threads}).
 *
 * <p>0 means automatic: one thread on a machine with at most two cores, otherwise the BLAS's own
 * default. On two cores a second BLAS thread has to share a core with the step's own thread, the
 * JVM's compiler and GC threads and everything else on the machine; while it waits, the step's
 * thread spins in {@code sched_yield}. {@code galore bench --blas-threads 1,2} on the micro
 * default measured one thread 1.18× and 1.31× faster per step (median of paired steps) and 1.38×
 * cheaper in process CPU time.
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
        return Runtime.getRuntime().availableProcessors() <= 2 ? 1 : BLAS_DEFAULT;
    }

    /** Applies {@link #resolve(int) resolve(setting)} to the BLAS and returns the count applied. */
    public static int apply(int setting) {
        int n = resolve(setting);
        blas().setMaxThreads(n);
        return n;
    }

    private static Blas blas() {
        return Nd4j.factory().blas();
    }
}
