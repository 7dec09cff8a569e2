package io.galore4j.projection;

import static io.galore4j.projection.TestMatrices.orthonormalityError;
import static io.galore4j.projection.TestMatrices.powerLaw;
import static io.galore4j.projection.TestMatrices.withSpectrum;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The randomized basis's three schemes, each forced, against the exact SVD; and which one runs where. */
class RandomizedSvdTest {

    /**
     * On σ_i = i^−0.5 (slow decay, as gradients), each scheme, on either side, with ℓ below the
     * side and ℓ equal to it (where the Gram iteration falls back to C's eigen-problem): overlap
     * with the exact basis ≥ 0.99, orthonormal rows, and the leading singular values within 1%.
     */
    @ParameterizedTest
    @CsvSource({"GRAM_ITERATION, true, 64", "GRAM_ITERATION, false, 64", "DIRECT, true, 64", "DIRECT, false, 64",
            "GRAM_EIGEN, true, 64", "GRAM_EIGEN, false, 64",
            "GRAM_ITERATION, true, 200", "DIRECT, true, 200", "GRAM_ITERATION, false, 200", "DIRECT, false, 200"})
    void eachSchemeMatchesTheExactBasis(RandomizedSvd.Scheme scheme, boolean left, int rank) {
        int m = left ? 240 : 700;
        int n = left ? 700 : 240;
        INDArray g = withSpectrum(m, n, powerLaw(240, 0.5), 11);
        int side = left ? m : n;
        INDArray exactT = Nd4j.createUninitialized(DataType.FLOAT, rank, side);
        float[] exactSigma = new ExactSvd().solve(g, left, exactT);
        RandomizedSvd solver = new RandomizedSvd(rank / 2, 4, 5);
        solver.force = scheme;
        INDArray basisT = Nd4j.createUninitialized(DataType.FLOAT, rank, side);
        float[] sigma = solver.solve(g, left, basisT);
        String what = scheme + (left ? " left" : " right") + " r=" + rank;
        double overlap = SubspaceMeasures.overlap(exactT, basisT);
        assertTrue(overlap >= 0.99, what + ": overlap " + overlap);
        assertTrue(orthonormalityError(basisT) <= 1e-4, what + ": orthonormality " + orthonormalityError(basisT));
        for (int i = 0; i < 10; i++) {
            assertEquals(exactSigma[i], sigma[i], 0.01 * exactSigma[i], what + ": sigma " + i);
        }
        assertEquals(1, solver.calls());
    }

    /**
     * The Gram eigen scheme computes C's top eigenvectors exactly (ssytrd, sstedc, and sormtr on
     * those r only): on either side, overlap with the exact SVD's basis ≥ 0.9999 and the top 64
     * singular values within 0.1%.
     */
    @ParameterizedTest
    @CsvSource({"true", "false"})
    void theGramEigenSchemeIsExact(boolean left) {
        int rank = 64;
        int m = left ? 240 : 700;
        int n = left ? 700 : 240;
        INDArray g = withSpectrum(m, n, powerLaw(240, 0.5), 13);
        INDArray exactT = Nd4j.createUninitialized(DataType.FLOAT, rank, 240);
        float[] exactSigma = new ExactSvd().solve(g, left, exactT);
        RandomizedSvd solver = new RandomizedSvd(rank / 2, 4, 5);
        solver.force = RandomizedSvd.Scheme.GRAM_EIGEN;
        INDArray basisT = Nd4j.createUninitialized(DataType.FLOAT, rank, 240);
        float[] sigma = solver.solve(g, left, basisT);
        double overlap = SubspaceMeasures.overlap(exactT, basisT);
        assertTrue(overlap >= 0.9999, "overlap " + overlap);
        assertTrue(orthonormalityError(basisT) <= 1e-5, "orthonormality " + orthonormalityError(basisT));
        for (int i = 0; i < rank; i++) {
            assertEquals(exactSigma[i], sigma[i], 1e-3 * exactSigma[i], "sigma " + i);
        }
    }

    /**
     * The cost model's choices at the benchmark's sizes (M×N, ℓ = r + max(16, r/2), q = 4) agree
     * with which scheme ran fastest there on this machine (README, "Projection").
     */
    @ParameterizedTest
    @CsvSource({"4096, 11008, 192, DIRECT", "4096, 11008, 768, GRAM_ITERATION", "4096, 11008, 1536, GRAM_ITERATION",
            "2048, 5461, 192, GRAM_ITERATION", "2048, 5461, 768, GRAM_EIGEN", "2048, 5461, 1536, GRAM_EIGEN",
            "512, 1376, 48, GRAM_ITERATION", "512, 1376, 96, GRAM_ITERATION",
            "512, 1376, 192, GRAM_EIGEN", "512, 1376, 512, GRAM_EIGEN"})
    void theCheapestSchemeIsChosen(long bigM, long bigN, long l, RandomizedSvd.Scheme expected) {
        long rank = l * 2 / 3;                          // ℓ = r + r/2
        assertEquals(expected, RandomizedSvd.choose(bigM, bigN, rank, l, 4), bigM + "x" + bigN + " l=" + l);
    }
}
