package io.galore4j.projection;

import static io.galore4j.projection.TestMatrices.gaussian;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Projectors sharing one scratch compute what projectors with their own buffers compute. */
class ProjectionScratchTest {

    private static ProjectorConfig int4(int rank) {
        return ProjectorConfig.of(rank).withBasisBits(4);
    }

    @Test
    void sharedScratchGivesTheSameProjectionsAsPrivateBuffers() {
        ProjectionScratch shared = new ProjectionScratch();
        long[][] shapes = {{48, 80}, {96, 40}, {64, 64}};
        Projector[] own = new Projector[shapes.length];
        Projector[] sharing = new Projector[shapes.length];
        for (int i = 0; i < shapes.length; i++) {
            own[i] = new Projector("w" + i, shapes[i][0], shapes[i][1], int4(8), RefreshPolicy.fixed(2));
            sharing[i] = new Projector("w" + i, shapes[i][0], shapes[i][1], int4(8), RefreshPolicy.fixed(2), shared);
        }
        // interleaved as layer-wise updates call them: refresh (every other step), project, project back
        for (int step = 0; step < 4; step++) {
            for (int i = 0; i < shapes.length; i++) {
                INDArray g = gaussian(shapes[i][0], shapes[i][1], 100L * step + i);
                own[i].refreshIfDue(step, g);
                sharing[i].refreshIfDue(step, g);
                INDArray a = own[i].project(g).dup();
                INDArray b = sharing[i].project(g);
                assertEquals(a, b, "projection of layer " + i + " at step " + step);
                INDArray backA = g.ulike();
                INDArray backB = g.ulike();
                own[i].projectBack(a, backA);
                sharing[i].projectBack(b, backB);
                assertEquals(backA, backB, "back-projection of layer " + i + " at step " + step);
            }
        }
    }

    @Test
    void scratchHoldsTheLargestOfEachBufferAndMatchesItsFormula() {
        ProjectionScratch shared = new ProjectionScratch();
        ProjectorConfig c = int4(8);
        long[][] shapes = {{48, 80}, {96, 40}, {64, 64}};
        for (long[] s : shapes) {
            shared.reserve(s[0], s[1], c);
        }
        // std side: the basis spans the smaller dimension; R is r × the larger one
        long expected = 4L * (8 * 64 + 8 * 96 + 8 * 8);
        assertEquals(expected, shared.bytes());
        assertEquals(expected, ProjectionScratch.bytesFor(List.of(new long[] {48, 80, 8, 4, 0},
                new long[] {96, 40, 8, 4, 1}, new long[] {64, 64, 8, 4, 1})));
        // an fp32 basis needs no decoded copy
        ProjectionScratch fp32 = new ProjectionScratch();
        fp32.reserve(96, 40, ProjectorConfig.of(8));
        assertEquals(4L * (96 * 8 + 8 * 8), fp32.bytes());
    }

    @Test
    void rotationIsRefusedOnceAnotherLayersRefreshReusedIt() {
        ProjectionScratch shared = new ProjectionScratch();
        Projector a = new Projector("a", 40, 60, int4(4), RefreshPolicy.fixed(1), shared);
        Projector b = new Projector("b", 40, 60, int4(4), RefreshPolicy.fixed(1), shared);
        for (int step = 0; step < 2; step++) {
            a.refresh(step, gaussian(40, 60, step));
            b.refresh(step, gaussian(40, 60, 10 + step));
        }
        assertTrue(b.hasRotation());
        assertEquals(4, b.rotation().rows());
        assertFalse(a.hasRotation());
        IllegalStateException e = assertThrows(IllegalStateException.class, a::rotation);
        assertTrue(e.getMessage().contains("layer a"), e.getMessage());
    }

    @Test
    void autoPicksExactUpToItsLimitAndRandomizedAbove() {
        long max = BasisMethod.AUTO_EXACT_MAX_SIDE;
        assertEquals(BasisMethod.EXACT, BasisMethod.AUTO.resolve(max, 4 * max));
        assertEquals(BasisMethod.RANDOMIZED, BasisMethod.AUTO.resolve(max + 1, max + 1));
        assertEquals(BasisMethod.EXACT, BasisMethod.EXACT.resolve(4 * max, 4 * max));
        ProjectorConfig auto = ProjectorConfig.of(4).withBasisMethod(BasisMethod.AUTO);
        assertEquals(BasisMethod.EXACT, new Projector("s", 64, 2 * max, auto, RefreshPolicy.fixed(1)).basisMethod());
        assertEquals(BasisMethod.RANDOMIZED,
                new Projector("l", max + 1, max + 8, auto, RefreshPolicy.fixed(1)).basisMethod());
        assertEquals(BasisMethod.AUTO, BasisMethod.of("Auto"));
    }
}
