package io.galore4j.galore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The same GaLore run ({@link BlasRun}) gives the same weights under MKL and under ND4J's bundled
 * OpenBLAS. One JVM loads one BLAS, so this test, which runs on MKL (the default test profile sets
 * {@code -Dorg.bytedeco.openblas.load=mkl_rt}), runs {@link BlasRun} here and in a child JVM on
 * the same classpath without that property, which then loads OpenBLAS. Singular vectors are
 * defined up to sign and the two LAPACKs choose differently, so without the projection's sign
 * convention the kept moments meet differently signed bases after the second refresh. The
 * tolerance: 1e-5 of max|W| and 1e-4 of the accumulated update max|W − W0| after every step
 * (the builds' rounding differences are about ten times smaller; a basis vector of the opposite
 * sign moves the weights by percents of max|W|). The child also runs {@code GaloreStepTest}'s
 * float64 check on OpenBLAS.
 */
class CrossBlasTest {

    @Test
    void mklAndOpenBlasGiveTheSameWeights() throws Exception {
        assumeTrue("mkl_rt".equals(System.getProperty("org.bytedeco.openblas.load")),
                "needs the MKL test profile (the default) to compare against a forked OpenBLAS JVM");
        Path out = Files.createTempFile("blas-run", ".bin");
        try {
            BlasRun.Result child = runChild(out);
            BlasRun.Result here = BlasRun.measure();
            assertEquals("mkl", here.blas());
            assertEquals("openblas", child.blas());
            for (int i = 0; i < BlasRun.SHAPES.length; i++) {
                float[] w0 = BlasRun.initial(i);
                double ofWeights = 0;
                double ofUpdate = 0;
                for (int t = 0; t < BlasRun.STEPS; t++) {
                    float[] a = here.weights()[i][t];
                    float[] b = child.weights()[i][t];
                    double diff = 0;
                    double update = 0;
                    double scale = 0;
                    for (int j = 0; j < a.length; j++) {
                        diff = Math.max(diff, Math.abs(a[j] - b[j]));
                        update = Math.max(update, Math.abs(a[j] - w0[j]));
                        scale = Math.max(scale, Math.abs(a[j]));
                    }
                    assertTrue(diff <= 1e-5 * scale && diff <= 1e-4 * update, BlasRun.name(i) + " after step " + t
                            + ": max|W_mkl − W_openblas| = " + diff + ", max|W| = " + scale + ", max|W − W0| = " + update);
                    ofWeights = Math.max(ofWeights, diff / scale);
                    ofUpdate = Math.max(ofUpdate, diff / update);
                }
                System.out.printf("%s: max|W_mkl − W_openblas| over the steps: %.3g of max|W|, %.3g of max|W − W0|%n",
                        BlasRun.name(i), ofWeights, ofUpdate);
            }
            // the float64 check of GaloreStepTest, on OpenBLAS
            System.out.printf("float64 check: %s %.3g, %s %.3g%n", here.blas(), here.float64Error(), child.blas(),
                    child.float64Error());
            assertTrue(child.float64Error() <= 1e-4, "OpenBLAS: relative max-abs error of the update "
                    + child.float64Error());
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /** Runs {@link BlasRun#main} in a JVM without the MKL property, returns what it wrote. */
    static BlasRun.Result runChild(Path out) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx1g", "-Dorg.bytedeco.javacpp.maxphysicalbytes=0",
                "-cp", System.getProperty("java.class.path"), BlasRun.class.getName(), out.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("OMP_NUM_THREADS", "1");
        Path log = Files.createTempFile("blas-run", ".log");
        pb.redirectOutput(log.toFile());
        Process p = pb.start();
        try {
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                throw new AssertionError("the OpenBLAS child JVM did not finish in 120 s");
            }
            String text = Files.readString(log);
            assertEquals(0, p.exitValue(), "child JVM failed:\n" + text);
            return BlasRun.Result.read(out);
        } finally {
            p.destroyForcibly();
            Files.deleteIfExists(log);
        }
    }
}
