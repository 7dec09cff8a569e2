package io.galore4j.projection.bench;

import io.galore4j.projection.BasisMethod;
import io.galore4j.projection.Projector;
import io.galore4j.projection.ProjectorConfig;
import io.galore4j.projection.RefreshPolicy;
import org.apache.commons.math3.stat.StatUtils;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Plain single-shot timing of the basis computation where JMH is impractical (one exact SVD of
 * 4096×11008 takes minutes on 2 shared cores): for each size and rank, the exact thin SVD, the
 * randomized SVD (after one warm-up call) and, where it fits in about a minute, ND4J's full
 * {@code gesvd}, all on the same gradient-like matrix in the same process; plus the overlap of
 * the randomized basis with the exact one.
 *
 * <p>Run: {@code java -cp <test classpath> io.galore4j.projection.bench.BasisTiming SIZE... [power=0.5] [p=..] [q=..] [gesvd=true] [pairs=0]}
 * with SIZE like 512x1376:128,512 (ranks after the colon). With {@code pairs=N}, each rank then
 * alternates N {@code gesvd} calls with N randomized refreshes, so that the machine's slow and
 * fast spells fall on both alike, and prints the medians and the median of the N ratios.
 */
public final class BasisTiming {
    public static void main(String[] args) {
        double power = 0.5;
        boolean gesvd = true;
        int pairs = 0;
        Integer p = null;
        int q = ProjectorConfig.DEFAULT_POWER_ITERATIONS;
        java.util.List<String> sizes = new java.util.ArrayList<>();
        for (String a : args) {
            if (a.startsWith("power=")) {
                power = Double.parseDouble(a.substring(6));
            } else if (a.startsWith("gesvd=")) {
                gesvd = Boolean.parseBoolean(a.substring(6));
            } else if (a.startsWith("pairs=")) {
                pairs = Integer.parseInt(a.substring(6));
            } else if (a.startsWith("p=")) {
                p = Integer.parseInt(a.substring(2));
            } else if (a.startsWith("q=")) {
                q = Integer.parseInt(a.substring(2));
            } else {
                sizes.add(a);
            }
        }
        System.out.println("size,rank,power,p,q,exact_ms(rank max),randomized_ms,gesvd_ms,overlap,energy_randomized,speedup_vs_gesvd,speedup_vs_exact");
        for (String spec : sizes) {
            String[] parts = spec.split(":");
            String[] mn = parts[0].split("x");
            int m = Integer.parseInt(mn[0]);
            int n = Integer.parseInt(mn[1]);
            INDArray g = GradientLike.create(m, n, power, 1);
            double gesvdMs = gesvd ? gesvdMillis(g) : Double.NaN;
            int[] ranks = java.util.Arrays.stream(parts[1].split(",")).mapToInt(Integer::parseInt).toArray();
            int maxRank = java.util.Arrays.stream(ranks).max().orElseThrow();
            // one exact SVD per size: the top-r exact basis is the first r rows of the top-maxRank one
            Projector exact = new Projector("w", m, n, ProjectorConfig.of(maxRank), RefreshPolicy.fixed(1));
            var es = exact.refresh(0, g);
            for (int r : ranks) {
                int pp = p != null ? p : ProjectorConfig.defaultOversampling(r);
                ProjectorConfig rc = ProjectorConfig.of(r).withRandomized(pp, q, 42);
                Projector rand = new Projector("w", m, n, rc, RefreshPolicy.fixed(1));
                rand.refresh(0, g);                       // warm-up
                var rst = rand.refresh(1, g);
                double ov = GradientLike.overlap(exact.basisTransposed().get(
                        org.nd4j.linalg.indexing.NDArrayIndex.interval(0, r), org.nd4j.linalg.indexing.NDArrayIndex.all()),
                        rand.basisTransposed());
                System.out.printf("%dx%d,%d,%.2f,%d,%d,%.0f,%.0f,%.0f,%.5f,%.4f,%.1f,%.1f%n", m, n, r, power, pp, q,
                        es.basisMillis(), rst.basisMillis(), gesvdMs, ov, rst.energy(),
                        gesvdMs / rst.basisMillis(), es.basisMillis() / rst.basisMillis());
                if (gesvd && pairs > 0) {
                    double[] ge = new double[pairs];
                    double[] ra = new double[pairs];
                    double[] ratio = new double[pairs];
                    for (int i = 0; i < pairs; i++) {
                        ge[i] = gesvdMillis(g);
                        ra[i] = rand.refresh(2 + i, g).basisMillis();
                        ratio[i] = ge[i] / ra[i];
                    }
                    System.out.printf("pairs,%dx%d,%d,%d,gesvd_median_ms=%.0f,randomized_median_ms=%.0f,ratio_median=%.1f,ratio_range=%.1f-%.1f%n",
                            m, n, r, pairs, StatUtils.percentile(ge, 50), StatUtils.percentile(ra, 50),
                            StatUtils.percentile(ratio, 50), StatUtils.min(ratio), StatUtils.max(ratio));
                }
            }
            g.close();
        }
    }

    /** Milliseconds of one ND4J {@code gesvd} (full square U and Vᵀ) of a copy of {@code g}. */
    public static double gesvdMillis(INDArray g) {
        long m = g.rows();
        long n = g.columns();
        INDArray a = g.dup();
        INDArray s = Nd4j.create(DataType.FLOAT, Math.min(m, n));
        INDArray u = Nd4j.create(DataType.FLOAT, m, m);
        INDArray vt = Nd4j.create(DataType.FLOAT, n, n);
        long t0 = System.nanoTime();
        Nd4j.getBlasWrapper().lapack().gesvd(a, s, u, vt);
        double ms = (System.nanoTime() - t0) / 1e6;
        a.close();
        s.close();
        u.close();
        vt.close();
        return ms;
    }
}
