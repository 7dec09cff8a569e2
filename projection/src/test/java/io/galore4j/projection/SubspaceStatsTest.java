package io.galore4j.projection;

import static io.galore4j.projection.TestMatrices.gaussian;
import static io.galore4j.projection.TestMatrices.orthonormalRows;
import static io.galore4j.projection.TestMatrices.relativeError;
import static io.galore4j.projection.TestMatrices.withSpectrum;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

class SubspaceStatsTest {

    @Test
    void overlapOfABasisWithItselfIsOneAndWithItsOrthogonalComplementZero() {
        INDArray q = orthonormalRows(40, 100, 9);                 // 40 orthonormal vectors in R^100
        INDArray a = q.get(NDArrayIndex.interval(0, 20), NDArrayIndex.all()).dup();
        INDArray b = q.get(NDArrayIndex.interval(20, 40), NDArrayIndex.all()).dup();
        assertEquals(1.0, SubspaceMeasures.overlap(a, a), 1e-5);
        assertEquals(0.0, SubspaceMeasures.overlap(a, b), 1e-5);
        // half of a's vectors with half of b's: overlap 1/2
        INDArray mixed = Nd4j.vstack(q.get(NDArrayIndex.interval(0, 10), NDArrayIndex.all()),
                q.get(NDArrayIndex.interval(20, 30), NDArrayIndex.all()));
        assertEquals(0.5, SubspaceMeasures.overlap(a, mixed), 1e-5);
    }

    @Test
    void energyOfARankRMatrixAtRankRIsOne() {
        INDArray g = withSpectrum(70, 50, new double[] {5, 4, 3, 2, 1}, 3);
        for (BasisMethod method : BasisMethod.values()) {
            Projector p = new Projector("w", 70, 50, ProjectorConfig.of(5).withBasisMethod(method), RefreshPolicy.fixed(10));
            assertEquals(1.0, p.refresh(0, g).energy(), 1e-5, method.toString());
        }
    }

    @Test
    void firstRefreshHasNoCosineThenSameGradientGivesOverlapOneAndIdentityRotation() {
        INDArray g = gaussian(60, 40, 12);
        Projector p = new Projector("layers.0.q", 60, 40, ProjectorConfig.of(6), RefreshPolicy.fixed(10));
        SubspaceStats first = p.refresh(0, g);
        assertTrue(Double.isNaN(first.cosine()) && Double.isNaN(first.overlap()));
        assertFalse(first.hasPrevious());
        assertFalse(p.hasRotation());
        Map<String, Object> json = first.toMap();
        assertNull(json.get("cosine"));
        assertEquals("layers.0.q", json.get("layer"));
        assertEquals(10L, json.get("gap"));
        assertTrue(first.basisMillis() > 0);
        SubspaceStats again = p.refresh(10, g);
        assertEquals(1.0, again.overlap(), 1e-5);
        assertEquals(1.0, again.cosine(), 1e-5);
        assertEquals(10, again.step());
        assertTrue(relativeError(p.rotation(), Nd4j.eye(6).castTo(DataType.FLOAT)) < 1e-5);
    }

    /**
     * The cosine compares the first singular vectors as computed, in fp32 (as Q-GaLore does),
     * also when the basis is kept in INT4: the same as the fp32 basis's cosine, which is the
     * cosine of its first rows.
     */
    @Test
    void cosineComparesTheFp32FirstVectorsAlsoForAnInt4Basis() {
        INDArray g1 = withSpectrum(64, 300, TestMatrices.powerLaw(64, 1.0), 8);
        INDArray g2 = g1.add(gaussian(64, 300, 9).muli(0.02));
        Projector fp32 = new Projector("w", 64, 300, ProjectorConfig.of(8), RefreshPolicy.fixed(1));
        Projector int4 = new Projector("w", 64, 300, ProjectorConfig.of(8).withBasisBits(4), RefreshPolicy.fixed(1));
        fp32.refresh(0, g1);
        int4.refresh(0, g1);
        INDArray before = fp32.basisTransposed().getRow(0).dup();
        INDArray decodedBefore = int4.basisTransposed().getRow(0).dup();
        double cosine = fp32.refresh(1, g2).cosine();
        INDArray after = fp32.basisTransposed().getRow(0);
        double expected = before.mul(after).sumNumber().doubleValue()
                / (before.norm2Number().doubleValue() * after.norm2Number().doubleValue());
        assertEquals(expected, cosine, 1e-6);
        assertTrue(cosine > 0.5 && cosine < 0.9999, "the first vector moved a little: " + cosine);
        double int4Cosine = int4.refresh(1, g2).cosine();
        assertEquals(cosine, int4Cosine, 1e-6);
        INDArray decodedAfter = int4.basisTransposed().getRow(0);
        double decoded = decodedBefore.mul(decodedAfter).sumNumber().doubleValue()
                / (decodedBefore.norm2Number().doubleValue() * decodedAfter.norm2Number().doubleValue());
        assertTrue(Math.abs(decoded - cosine) > 1e-4, "INT4 rounding moves the decoded vectors' cosine: "
                + decoded + " against " + cosine);
    }

    @Test
    void rotationCarriesMomentsIntoTheNewBasis() {
        for (Side side : new Side[] {Side.LEFT, Side.RIGHT}) {
            Projector p = new Projector("w", 50, 70, ProjectorConfig.of(5).withSide(side), RefreshPolicy.fixed(10));
            p.refresh(0, gaussian(50, 70, 1));
            INDArray oldT = p.basisTransposed().dup();
            p.refresh(10, gaussian(50, 70, 2));
            INDArray newT = p.basisTransposed();
            long[] shape = p.projectedShape();
            INDArray moment = gaussian(shape[0], shape[1], 3);
            INDArray rotated = Nd4j.create(DataType.FLOAT, shape);
            p.rotate(moment, rotated);
            // LEFT: M' = P_newᵀ P_old M;  RIGHT: M' = M P_oldᵀ P_new
            INDArray expected = side == Side.LEFT ? newT.mmul(oldT.transpose()).mmul(moment)
                    : moment.mmul(oldT).mmul(newT.transpose());
            assertTrue(relativeError(rotated, expected) < 1e-5, side.toString());
            double overlap = p.lastStats().orElseThrow().overlap();
            assertEquals(SubspaceMeasures.overlap(newT, oldT), overlap, 1e-6);
            assertTrue(overlap > 0 && overlap < 1);
        }
    }

    @Test
    void refreshIfDueFollowsThePolicyAndReportsItsGap() {
        INDArray g = gaussian(30, 20, 5);
        Projector p = new Projector("w", 30, 20, ProjectorConfig.of(3),
                RefreshPolicy.of("adaptive", Map.of("gap", 4, "minGap", 2, "maxGap", 16)));
        assertTrue(p.refreshIfDue(0, g).isPresent());
        assertTrue(p.refreshIfDue(3, g).isEmpty());
        SubspaceStats s = p.refreshIfDue(4, g).orElseThrow();
        assertEquals(1.0, s.overlap(), 1e-5);
        assertEquals(8, s.gap());                  // overlap 1 ≥ highOverlap: the gap doubled
        assertTrue(p.refreshIfDue(11, g).isEmpty());
        assertTrue(p.refreshIfDue(12, g).isPresent());
    }

    @Test
    void badInputIsRejectedWithAClearMessage() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ProjectorConfig.of(0));
        assertTrue(e.getMessage().contains("rank"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new Projector("w", 30, 20, ProjectorConfig.of(21), RefreshPolicy.fixed(1)));
        assertTrue(e.getMessage().contains("rank") && e.getMessage().contains("21"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ProjectorConfig.of(4).withScale(Double.NaN));
        assertTrue(e.getMessage().contains("scale"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Side.of("up"));
        assertTrue(e.getMessage().contains("side") && e.getMessage().contains("up"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> BasisMethod.of("qr"));
        assertTrue(e.getMessage().contains("basisMethod"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ProjectorConfig.of(4).withBasisBits(8));
        assertTrue(e.getMessage().contains("basisBits"), e.getMessage());

        Projector p = new Projector("w", 30, 20, ProjectorConfig.of(3), RefreshPolicy.fixed(5));
        e = assertThrows(IllegalArgumentException.class, () -> p.refresh(0, Nd4j.create(DataType.FLOAT, 30, 20, 2)));
        assertTrue(e.getMessage().contains("2-D"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> p.refresh(0, Nd4j.create(DataType.FLOAT, 20, 30)));
        assertTrue(e.getMessage().contains("30×20"), e.getMessage());
        INDArray bad = gaussian(30, 20, 1);
        bad.putScalar(7, 3, Float.NaN);
        e = assertThrows(IllegalArgumentException.class, () -> p.refresh(0, bad));
        assertTrue(e.getMessage().contains("NaN"), e.getMessage());
        assertFalse(p.hasBasis());
        assertThrows(IllegalStateException.class, () -> p.project(gaussian(30, 20, 2)));
        p.refresh(0, gaussian(30, 20, 2));
        INDArray inf = gaussian(30, 20, 3);
        inf.putScalar(29, 19, Float.POSITIVE_INFINITY);
        e = assertThrows(IllegalArgumentException.class, () -> p.project(inf));
        assertTrue(e.getMessage().contains("infinite"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> p.projectBack(Nd4j.create(DataType.FLOAT, 3, 20), Nd4j.create(DataType.FLOAT, 30, 20)));
        assertTrue(e.getMessage().contains("lowRankUpdate"), e.getMessage());
    }
}
