package io.galore4j.projection;

import static io.galore4j.projection.TestMatrices.gaussian;
import static io.galore4j.projection.TestMatrices.powerLaw;
import static io.galore4j.projection.TestMatrices.withSpectrum;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The sign convention of new bases ({@link SignConvention}), alone and as every solver's output passes it. */
class SignConventionTest {

    @Test
    void aFirstBasisHasItsLargestComponentPositiveTheFirstOnTies() {
        INDArray pT = Nd4j.create(new float[] {
            0.1f, -0.5f, 0.5f, 0.2f,     // tie |−0.5| = |0.5|: index 1 decides → negated
            0.3f, 0.6f, -0.2f, 0.1f,     // largest 0.6 → kept
            -0.9f, 0.1f, 0.2f, 0.3f}, new long[] {3, 4}, 'c');
        SignConvention.apply(pT, null);
        assertArrayEquals(new float[] {-0.1f, 0.5f, -0.5f, -0.2f, 0.3f, 0.6f, -0.2f, 0.1f, 0.9f, -0.1f, -0.2f, -0.3f},
                pT.data().asFloat());
    }

    @Test
    void aLaterBasisPointsLikeThePreviousOneRowByRow() {
        INDArray previous = TestMatrices.orthonormalRows(6, 20, 1);
        INDArray fresh = previous.add(gaussian(6, 20, 2).muli(0.1)); // close to the previous vectors
        float[] signs = {1, -1, -1, 1, -1, 1};
        for (int i = 0; i < 6; i++) {
            fresh.getRow(i).muli(signs[i]);
        }
        INDArray orthogonal = Nd4j.create(new float[] {0, 0, 1, 0, -3, 0}, new long[] {1, 6}, 'c');
        SignConvention.apply(fresh, previous);
        for (int i = 0; i < 6; i++) {
            double dot = fresh.getRow(i).mul(previous.getRow(i)).sumNumber().doubleValue();
            assertTrue(dot > 0.5, "row " + i + ": dot with the previous row " + dot);
        }
        // a zero dot product falls back to the largest component
        SignConvention.apply(orthogonal, Nd4j.create(new float[] {1, 0, 0, 0, 0, 0}, new long[] {1, 6}, 'c'));
        assertArrayEquals(new float[] {-0f, -0f, -1, -0f, 3, -0f}, orthogonal.data().asFloat());
    }

    /**
     * Every solver passes its basis through the convention in the projector: the exact SVD and each
     * randomized scheme, which reach the same well-separated singular vectors by different routes
     * (and so with signs of their own), store the same signed vectors; refreshed from −G, whose
     * singular vectors are those of G up to sign, each keeps pointing as before.
     */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"DIRECT, left", "DIRECT, right", "GRAM_ITERATION, left", "GRAM_ITERATION, right",
            "GRAM_EIGEN, left", "GRAM_EIGEN, right"})
    void everySolverStoresTheSameSignedBasis(RandomizedSvd.Scheme scheme, String side) {
        int m = 60;
        int n = 90;
        int r = 6;
        INDArray g = withSpectrum(m, n, powerLaw(40, 1.0), 9);
        ProjectorConfig exactConfig = ProjectorConfig.of(r).withSide(Side.of(side));
        Projector exact = new Projector("w", m, n, exactConfig, RefreshPolicy.fixed(1));
        Projector randomized = new Projector("w", m, n, exactConfig.withRandomized(16, 4, 3), RefreshPolicy.fixed(1));
        ((RandomizedSvd) randomized.solverForTest()).force = scheme;
        exact.refresh(0, g);
        randomized.refresh(0, g);
        INDArray first = exact.basisTransposed().dup();
        assertClose(first, randomized.basisTransposed(), scheme + " against exact");
        for (int i = 0; i < r; i++) {
            double largest = 0;
            for (int j = 0; j < first.columns(); j++) {
                double v = first.getDouble(i, j);
                largest = Math.abs(v) > Math.abs(largest) ? v : largest;
            }
            assertTrue(largest > 0, "row " + i + " has its largest component negative: " + largest);
        }
        INDArray negated = g.neg();
        exact.refresh(1, negated);
        randomized.refresh(1, negated);
        assertClose(first, exact.basisTransposed(), "exact after −G");
        assertClose(first, randomized.basisTransposed(), scheme + " after −G");
    }

    /** An INT4 basis: the new vectors are signed against the decoded previous ones. */
    @Test
    void anInt4BasisIsSignedAgainstItsDecodedPredecessor() {
        int m = 64;
        int n = 300;
        INDArray g = withSpectrum(m, n, powerLaw(64, 1.0), 4);
        Projector p = new Projector("w", m, n, ProjectorConfig.of(8).withBasisBits(4), RefreshPolicy.fixed(1));
        p.refresh(0, g);
        INDArray before = p.basisTransposed().dup();
        p.refresh(1, g.neg().addi(gaussian(m, n, 5).muli(1e-3)));
        INDArray after = p.basisTransposed();
        for (int i = 0; i < 8; i++) {
            double dot = after.getRow(i).mul(before.getRow(i)).sumNumber().doubleValue();
            assertTrue(dot > 0.9, "row " + i + ": dot with the previous decoded row " + dot);
        }
    }

    private static void assertClose(INDArray expected, INDArray actual, String what) {
        double diff = expected.castTo(DataType.DOUBLE).sub(actual.castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
        assertTrue(diff <= 1e-3, what + ": max |ΔPᵀ| = " + diff);
    }
}
