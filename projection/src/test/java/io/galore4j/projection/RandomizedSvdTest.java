package io.galore4j.projection;

import static io.galore4j.projection.TestMatrices.orthonormalityError;
import static io.galore4j.projection.TestMatrices.powerLaw;
import static io.galore4j.projection.TestMatrices.withSpectrum;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The direct and the Gram schemes of the randomized basis, each forced, against the exact SVD. */
class RandomizedSvdTest {

    /**
     * On σ_i = i^−0.5 (slow decay, as gradients), both schemes, on either side, with ℓ below the
     * side and ℓ equal to it: overlap with the exact basis ≥ 0.99, orthonormal rows, and the
     * leading singular values within 1%.
     */
    @ParameterizedTest
    @CsvSource({"true, true, 64", "true, false, 64", "false, true, 64", "false, false, 64",
            "true, true, 200", "false, true, 200", "true, false, 200", "false, false, 200"})
    void bothSchemesMatchTheExactBasis(boolean gram, boolean left, int rank) {
        int m = left ? 240 : 700;
        int n = left ? 700 : 240;
        INDArray g = withSpectrum(m, n, powerLaw(240, 0.5), 11);
        int side = left ? m : n;
        INDArray exactT = Nd4j.createUninitialized(DataType.FLOAT, rank, side);
        float[] exactSigma = new ExactSvd().solve(g, left, exactT);
        RandomizedSvd solver = new RandomizedSvd(rank / 2, 4, 5);
        solver.forceGram = gram;
        INDArray basisT = Nd4j.createUninitialized(DataType.FLOAT, rank, side);
        float[] sigma = solver.solve(g, left, basisT);
        String what = (gram ? "gram" : "direct") + (left ? " left" : " right") + " r=" + rank;
        double overlap = SubspaceMeasures.overlap(exactT, basisT);
        assertTrue(overlap >= 0.99, what + ": overlap " + overlap);
        assertTrue(orthonormalityError(basisT) <= 1e-4, what + ": orthonormality " + orthonormalityError(basisT));
        for (int i = 0; i < 10; i++) {
            assertEquals(exactSigma[i], sigma[i], 0.01 * exactSigma[i], what + ": sigma " + i);
        }
        assertEquals(1, solver.calls());
    }

    @Test
    void gramSchemeIsChosenWhereItCostsLess() {
        assertTrue(RandomizedSvd.useGram(2048, 5461, 1536, 4), "papers' 1B rank");
        assertTrue(RandomizedSvd.useGram(4096, 11008, 1536, 4), "papers' 7B rank");
        assertTrue(RandomizedSvd.useGram(512, 1376, 512, 4), "l = M");
        assertFalse(RandomizedSvd.useGram(4096, 11008, 192, 4), "r = 128 of 4096");
    }
}
