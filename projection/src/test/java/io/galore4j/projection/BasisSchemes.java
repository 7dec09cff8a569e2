package io.galore4j.projection;

import io.galore4j.projection.bench.BasisTiming;
import io.galore4j.projection.bench.GradientLike;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Each of the randomized basis's schemes ({@link RandomizedSvd.Scheme}) forced, whole, on the same
 * gradient-like M×N matrix (σ_i ∝ i^−0.5, the basis on the smaller side, the default oversampling
 * and 4 power iterations unless {@code q=} says otherwise): three timed calls each, the first of which warms up, and the overlap
 * with the exact basis; beside them the scheme {@link RandomizedSvd#choose} picks, and optionally
 * ND4J's {@code gesvd} in the same process. The measurements behind the cost model's weights.
 *
 * <p>Run: {@code java -cp <projection test classpath> io.galore4j.projection.BasisSchemes M N
 * r[,r...] [gesvd] [q=Q] [SCHEME@r,...]} (add {@code -Dorg.bytedeco.openblas.load=mkl_rt} for MKL); the
 * last argument limits the runs to the scheme and rank pairs it names, e.g. {@code DIRECT@128}.
 */
public final class BasisSchemes {
    public static void main(String[] args) {
        if (args.length < 3) {
            System.err.println("usage: BasisSchemes M N r[,r...] [gesvd] [q=Q] [SCHEME@r,...]");
            System.exit(2);
        }
        int m = Integer.parseInt(args[0]);
        int n = Integer.parseInt(args[1]);
        int[] ranks = Arrays.stream(args[2].split(",")).mapToInt(Integer::parseInt).toArray();
        List<String> options = Arrays.asList(args).subList(3, args.length);
        boolean gesvd = options.contains("gesvd");
        int q = options.stream().filter(o -> o.startsWith("q=")).map(o -> Integer.parseInt(o.substring(2)))
                .findFirst().orElse(ProjectorConfig.DEFAULT_POWER_ITERATIONS);
        List<String> only = args.length > 3 && args[args.length - 1].contains("@")
                ? Arrays.asList(args[args.length - 1].split(",")) : null;
        boolean left = m <= n;
        int side = Math.min(m, n);
        int maxRank = Arrays.stream(ranks).max().orElseThrow();
        INDArray g = GradientLike.create(m, n, 0.5, 1);
        INDArray exactT = Nd4j.createUninitialized(DataType.FLOAT, maxRank, side);
        long e0 = System.nanoTime();
        new ExactSvd().solve(g, left, exactT);
        System.out.printf("%d x %d: exact thin SVD (rank %d) %.1f ms%n", m, n, maxRank, (System.nanoTime() - e0) / 1e6);
        for (int r : ranks) {
            int p = ProjectorConfig.defaultOversampling(r);
            int l = Math.min(r + p, side);
            INDArray exactTop = exactT.get(NDArrayIndex.interval(0, r), NDArrayIndex.all()).dup();
            System.out.printf("r %d, l %d, q %d: chosen %s%n", r, l, q, RandomizedSvd.choose(side, Math.max(m, n), r, l, q));
            for (RandomizedSvd.Scheme scheme : RandomizedSvd.Scheme.values()) {
                if (only != null && !only.contains(scheme.name() + "@" + r)) {
                    continue;
                }
                RandomizedSvd solver = new RandomizedSvd(p, q, 42);
                solver.force = scheme;
                INDArray basisT = Nd4j.createUninitialized(DataType.FLOAT, r, side);
                StringBuilder times = new StringBuilder();
                for (int rep = 0; rep < 3; rep++) {
                    long t0 = System.nanoTime();
                    solver.solve(g, left, basisT);
                    times.append(String.format(" %.1f", (System.nanoTime() - t0) / 1e6));
                }
                System.out.printf("  %-15s ms%s, overlap %.4f%n", scheme, times, SubspaceMeasures.overlap(exactTop, basisT));
                basisT.close();
            }
            exactTop.close();
        }
        if (gesvd) {
            System.out.printf("gesvd %.1f ms%n", BasisTiming.gesvdMillis(g));
        }
    }
}
