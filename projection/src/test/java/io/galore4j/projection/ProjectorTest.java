package io.galore4j.projection;

import static io.galore4j.projection.TestMatrices.gaussian;
import static io.galore4j.projection.TestMatrices.orthonormalityError;
import static io.galore4j.projection.TestMatrices.powerLaw;
import static io.galore4j.projection.TestMatrices.relativeError;
import static io.galore4j.projection.TestMatrices.withSpectrum;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class ProjectorTest {

    private static Projector projector(int m, int n, ProjectorConfig c) {
        return new Projector("w", m, n, c, RefreshPolicy.fixed(200));
    }

    @ParameterizedTest(name = "{0}×{1} side {2} {3}")
    @CsvSource({
        "48, 80, std, exact", "48, 80, reverse, exact", "48, 80, left, exact", "48, 80, right, exact",
        "80, 48, std, exact", "80, 48, reverse, exact", "80, 48, left, exact", "80, 48, right, exact",
        "48, 80, std, randomized", "48, 80, reverse, randomized",
        "80, 48, left, randomized", "80, 48, right, randomized"})
    void rankRMatrixIsProjectedAndBackExactly(int m, int n, String side, String method) {
        int r = 6;
        INDArray g = withSpectrum(m, n, new double[] {3, 2.5, 2, 1, 0.5, 0.25}, 11);
        ProjectorConfig c = ProjectorConfig.of(r).withSide(Side.of(side)).withBasisMethod(BasisMethod.of(method))
                .withScale(1.0);
        Projector p = projector(m, n, c);
        p.refresh(0, g);
        INDArray rr = p.project(g);
        assertArrayEquals(p.projectedShape(), rr.shape());
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, m, n);
        p.projectBack(rr, out);
        assertTrue(relativeError(out, g) <= 1e-5, "relative error " + relativeError(out, g));
    }

    @Test
    void scaleMultipliesTheBackProjection() {
        INDArray g = withSpectrum(40, 30, new double[] {2, 1, 0.5}, 5);
        Projector p = projector(40, 30, ProjectorConfig.of(3).withScale(0.25));
        p.refresh(0, g);
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, 40, 30);
        p.projectBack(p.project(g), out);
        assertTrue(relativeError(out, g.mul(0.25)) <= 1e-5);
    }

    @Test
    void stdUsesTheSmallerSideAndReverseTheLarger() {
        assertEquals(Side.RIGHT, Side.STD.resolve(100, 50));
        assertEquals(Side.RIGHT, Side.STD.resolve(50, 50));
        assertEquals(Side.LEFT, Side.STD.resolve(50, 100));
        assertEquals(Side.LEFT, Side.REVERSE.resolve(100, 50));
        assertEquals(Side.RIGHT, Side.REVERSE.resolve(50, 100));
        Projector tall = projector(100, 50, ProjectorConfig.of(4));
        assertArrayEquals(new long[] {100, 4}, tall.projectedShape());
        Projector wide = projector(50, 100, ProjectorConfig.of(4));
        assertArrayEquals(new long[] {4, 100}, wide.projectedShape());
    }

    @ParameterizedTest(name = "{0} side {1}")
    @CsvSource({"exact, left", "exact, right", "randomized, left", "randomized, right"})
    void basisHasOrthonormalColumns(String method, String side) {
        INDArray g = gaussian(150, 220, 3);
        Projector p = projector(150, 220, ProjectorConfig.of(24).withSide(Side.of(side))
                .withBasisMethod(BasisMethod.of(method)));
        p.refresh(0, g);
        double err = orthonormalityError(p.basisTransposed());
        assertTrue(err <= 1e-5, "max |PᵀP − I| = " + err);
    }

    @ParameterizedTest
    @CsvSource({"left", "right"})
    void exactBasisRecoversTheKnownSingularVectorsAndValues(String side) {
        int m = 90;
        int n = 130;
        int k = 30;
        int r = 10;
        double[] sigma = powerLaw(k, 1.0);
        INDArray g = withSpectrum(m, n, sigma, 21);
        INDArray truthT = Side.of(side) == Side.LEFT
                ? TestMatrices.orthonormalRows(k, m, 21).get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, r),
                        org.nd4j.linalg.indexing.NDArrayIndex.all()).dup()
                : TestMatrices.orthonormalRows(k, n, 22).get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, r),
                        org.nd4j.linalg.indexing.NDArrayIndex.all()).dup();
        Projector p = projector(m, n, ProjectorConfig.of(r).withSide(Side.of(side)));
        SubspaceStats s = p.refresh(0, g);
        assertEquals(1.0, SubspaceMeasures.overlap(p.basisTransposed(), truthT), 1e-5);
        double[] top = s.singularValues();
        assertEquals(8, top.length);
        for (int i = 0; i < 8; i++) {
            assertEquals(sigma[i], top[i], 1e-5 * sigma[0]);
        }
        double expectedEnergy = 0;
        double total = 0;
        for (int i = 0; i < k; i++) {
            total += sigma[i] * sigma[i];
            expectedEnergy += i < r ? sigma[i] * sigma[i] : 0;
        }
        assertEquals(expectedEnergy / total, s.energy(), 1e-5);
    }

    @Test
    void randomizedBasisOverlapsTheExactOneOnAPowerLawSpectrum() {
        int m = 512;
        int n = 1376;
        INDArray g = withSpectrum(m, n, powerLaw(m, 1.0), 7);
        Projector exact = projector(m, n, ProjectorConfig.of(64));
        Projector randomized = projector(m, n, ProjectorConfig.of(64).withRandomized(
                ProjectorConfig.defaultOversampling(64), ProjectorConfig.DEFAULT_POWER_ITERATIONS, 42));
        exact.refresh(0, g);
        randomized.refresh(0, g);
        double overlap = SubspaceMeasures.overlap(exact.basisTransposed(), randomized.basisTransposed());
        assertTrue(overlap >= 0.99, "overlap " + overlap);
    }

    @Test
    void randomizedBasisIsReproducibleFromItsSeed() {
        INDArray g = gaussian(60, 90, 1);
        Projector a = projector(60, 90, ProjectorConfig.of(8).withRandomized(4, 1, 99));
        Projector b = projector(60, 90, ProjectorConfig.of(8).withRandomized(4, 1, 99));
        a.refresh(0, g);
        b.refresh(0, g);
        assertEquals(a.basisTransposed(), b.basisTransposed());
    }

    @Test
    void doubleGradientsAreProjectedInDouble() {
        INDArray g = withSpectrum(30, 50, new double[] {1, 0.5, 0.25, 0.125}, 2).castTo(DataType.DOUBLE);
        Projector p = projector(30, 50, ProjectorConfig.of(4).withScale(1));
        p.refresh(0, g);
        INDArray rr = p.project(g);
        assertEquals(DataType.DOUBLE, rr.dataType());
        INDArray out = Nd4j.create(DataType.DOUBLE, 30, 50);
        p.projectBack(rr, out);
        assertTrue(relativeError(out, g) <= 1e-5);
    }

    @Test
    void projectReusesItsBuffer() {
        INDArray g = gaussian(20, 30, 4);
        Projector p = projector(20, 30, ProjectorConfig.of(3));
        p.refresh(0, g);
        INDArray first = p.project(g);
        INDArray second = p.project(gaussian(20, 30, 5));
        assertTrue(first == second, "the projected gradient lives in one reused buffer");
    }

    /**
     * A restored INT4 projector measures the next refresh exactly as the original (its fp32 first
     * vector is part of the saved basis); a state saved before that vector was kept still loads,
     * its decoded first row standing in.
     */
    @Test
    void anInt4ProjectorRestoredFromItsStateContinuesExactly() {
        INDArray g1 = withSpectrum(64, 300, powerLaw(64, 1.0), 3);
        INDArray g2 = g1.add(gaussian(64, 300, 4).muli(0.02));
        ProjectorConfig c = ProjectorConfig.of(8).withBasisBits(4);
        Projector original = projector(64, 300, c);
        original.refresh(0, g1);
        java.util.Map<String, Object> state = original.state();
        java.util.Map<String, java.nio.Buffer> parts = new java.util.LinkedHashMap<>();
        original.basisParts().forEach((k, v) -> parts.put(k, copy(v)));
        Projector restored = projector(64, 300, c);
        restored.restore(state, parts);
        parts.remove(BasisStore.FIRST_VECTOR);
        Projector legacy = projector(64, 300, c);
        legacy.restore(state, parts);
        double cosine = original.refresh(1, g2).cosine();
        assertEquals(cosine, restored.refresh(1, g2).cosine(), 0.0);
        assertEquals(cosine, legacy.refresh(1, g2).cosine(), 0.05);
        assertEquals(original.basisTransposed(), restored.basisTransposed());
    }

    private static java.nio.Buffer copy(java.nio.Buffer b) {
        if (b instanceof java.nio.FloatBuffer f) {
            java.nio.FloatBuffer out = java.nio.FloatBuffer.allocate(f.remaining());
            out.put(f.duplicate()).flip();
            return out;
        }
        java.nio.ByteBuffer bytes = (java.nio.ByteBuffer) b;
        java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(bytes.remaining());
        out.put(bytes.duplicate()).flip();
        return out;
    }
}
