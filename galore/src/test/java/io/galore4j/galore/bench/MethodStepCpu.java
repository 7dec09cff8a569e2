package io.galore4j.galore.bench;

import com.sun.management.OperatingSystemMXBean;
import io.galore4j.galore.LayerwiseOptimizer;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The steps of {@link MethodStepBench} timed in process CPU time, with one BLAS thread: on a
 * machine other jobs share, wall time measures the queue for a core, CPU time the work. Prints per
 * method the median CPU milliseconds of a step without and with a refresh, and of a step with the
 * refresh amortized over a gap of 200 steps (the presets' gap), and that figure over GaLore's.
 *
 * <p>Run: {@code java -cp <galore test class path> io.galore4j.galore.bench.MethodStepCpu [steps]}
 */
public final class MethodStepCpu {
    private static final int GAP = 200;

    private MethodStepCpu() {
    }

    public static void main(String[] args) {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        Nd4j.factory().blas().setMaxThreads(1);
        OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        INDArray grad = MethodStepBench.gradient();
        INDArray work = grad.dup();
        double galore = Double.NaN;
        System.out.printf("%-12s %12s %12s %16s %10s%n", "method", "step ms", "refresh ms", "amortized ms", "/ galore");
        for (String method : List.of("galore", "q-galore", "fira", "apollo", "apollo-mini")) {
            double step = median(os, steps, MethodStepBench.optimizer(method, 1_000_000, grad, work), grad, work);
            double refresh = median(os, Math.max(2, steps / 2), MethodStepBench.optimizer(method, 1, grad, work), grad, work);
            double amortized = step + (refresh - step) / GAP;
            if (method.equals("galore")) {
                galore = amortized;
            }
            System.out.printf("%-12s %12.1f %12.1f %16.1f %10.3f%n", method, step, refresh, amortized, amortized / galore);
        }
    }

    /** The median process CPU milliseconds of {@code n} steps (after one untimed step), then closes {@code opt}. */
    private static double median(OperatingSystemMXBean os, int n, LayerwiseOptimizer opt, INDArray grad, INDArray work) {
        try (opt) {
            MethodStepBench.step(opt, grad, work);
            double[] ms = new double[n];
            for (int i = 0; i < n; i++) {
                long t0 = os.getProcessCpuTime();
                MethodStepBench.step(opt, grad, work);
                ms[i] = (os.getProcessCpuTime() - t0) / 1e6;
            }
            Arrays.sort(ms);
            return ms[n / 2];
        }
    }
}
