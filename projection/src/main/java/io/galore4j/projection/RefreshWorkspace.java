package io.galore4j.projection;

import io.galore4j.quant.GroupQuantizer;
import io.galore4j.quant.QuantizedTensor;

/** The transient memory of one basis refresh, for estimates made before anything is allocated. */
public final class RefreshWorkspace {
    private RefreshWorkspace() {
    }

    /**
     * The transient bytes one basis computation for an m×n gradient allocates beyond the
     * projector's own buffers (freed when the refresh is accepted or dropped), from the solvers'
     * allocations: for {@code exact}, the copy of G that sgesdd destroys, the thin factors
     * (n·k + k·m, k = min(m, n)), and sgesdd's workspace (about 4k² + 8k floats and 8k ints); for
     * {@code randomized}, the ℓ×N test matrix, the ℓ×M and ℓ×N iterates and the small ℓ×ℓ factors
     * (ℓ = r + oversampling), or, where a Gram scheme runs ({@link RandomizedSvd#choose} for these
     * ℓ and power iterations), the M×M Gram matrix, and either two ℓ×M iterates, the ℓ×ℓ
     * eigen-problem and ssyevd's workspace (about 2n² + 6n floats and 5n ints for order n = ℓ), or,
     * where C's own eigen-problem is solved, the M×M eigenvectors of its tridiagonal form and
     * sstedc's workspace (the same 2n² + 6n floats and 5n ints, n = M). Both add the
     * {@link BasisCandidate}: the new r×d basis, and for an INT4 basis ({@code basisBits} 4) its
     * codes with their scales and zero points; and the r×r rotation.
     */
    public static long bytes(BasisMethod svd, int rank, long m, long n, Side side, int oversampling,
            int powerIterations, int basisBits) {
        long k = Math.min(m, n);
        boolean left = side.resolve(m, n) == Side.LEFT;
        long dim = left ? m : n;
        long codes = basisBits == 4 ? QuantizedTensor.bytes(4, GroupQuantizer.DEFAULT_GROUP_SIZE, rank * dim) : 0;
        long common = 4L * rank * dim + codes + 4L * rank * rank;
        if (svd.resolve(m, n) == BasisMethod.EXACT) {
            return 4 * (m * n + k + n * k + k * m + 4 * k * k + 8 * k) + 4 * 8 * k + common;
        }
        long bigM = left ? m : n;
        long bigN = left ? n : m;
        long l = Math.min(rank + oversampling, k);
        RandomizedSvd.Scheme scheme = RandomizedSvd.choose(bigM, bigN, rank, l, powerIterations);
        if (scheme != RandomizedSvd.Scheme.DIRECT) {
            boolean eigen = scheme == RandomizedSvd.Scheme.GRAM_EIGEN;
            long order = eigen ? bigM : l;
            long iterates = eigen ? 0 : 2 * l * bigM + l * l + l * rank;
            return 4 * (bigM * bigM + iterates + l + 2 * order * order + 6 * order + 5 * order) + common;
        }
        return 4 * (2 * l * bigN + l * bigM + l * rank + 4 * l * l + 2 * l) + common;
    }
}
