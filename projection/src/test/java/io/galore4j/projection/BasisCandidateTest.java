package io.galore4j.projection;

import static io.galore4j.projection.TestMatrices.gaussian;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A refresh in two phases: a proposed basis that is dropped leaves the projector exactly as it
 * was (basis, policy, the randomized solver's next draw), and a proposed basis projects as the
 * accepted one will.
 */
class BasisCandidateTest {

    private static Projector projector(int bits) {
        ProjectorConfig c = ProjectorConfig.of(8).withBasisMethod(BasisMethod.RANDOMIZED).withBasisBits(bits);
        return new Projector("w", 40, 96, c, RefreshPolicy.of("lazy", Map.of("gap", 2L)));
    }

    @ParameterizedTest(name = "basis bits {0}")
    @ValueSource(ints = {32, 4})
    void aDroppedCandidateChangesNothingAndAnAcceptedOneProjectsAsProposed(int bits) {
        Projector p = projector(bits);
        Projector twin = projector(bits);
        p.refresh(0, gaussian(40, 96, 1));
        twin.refresh(0, gaussian(40, 96, 1));
        Map<String, Object> state = p.state();
        float[] basis = values(p.basisParts());

        INDArray other = gaussian(40, 96, 2);
        try (BasisCandidate dropped = p.propose(2, other)) {
            p.project(other, dropped);
        }
        assertEquals(state, p.state(), "policy and solver state");
        assertArrayEquals(basis, values(p.basisParts()), "stored basis");

        INDArray g = gaussian(40, 96, 3);
        INDArray viaCandidate;
        try (BasisCandidate c = p.propose(2, g)) {
            viaCandidate = p.project(g, c).dup();
            SubspaceStats a = p.accept(c);
            SubspaceStats b = twin.refresh(2, g);
            assertEquals(b.overlap(), a.overlap());
            assertEquals(b.cosine(), a.cosine());
        }
        assertEquals(twin.state(), p.state());
        assertArrayEquals(values(twin.basisParts()), values(p.basisParts()));
        assertArrayEquals(twin.project(g).dup().data().asFloat(), viaCandidate.data().asFloat());
        assertArrayEquals(p.project(g).dup().data().asFloat(), viaCandidate.data().asFloat());
    }

    @ParameterizedTest(name = "basis bits {0}")
    @ValueSource(ints = {32, 4})
    void aCandidateIsUsedOnceAndOnlyByItsProjector(int bits) {
        Projector p = projector(bits);
        Projector q = projector(bits);
        BasisCandidate c = p.propose(0, gaussian(40, 96, 1));
        assertThrows(IllegalArgumentException.class, () -> q.accept(c));
        p.accept(c);
        assertThrows(IllegalStateException.class, () -> p.accept(c));
        assertThrows(IllegalStateException.class, () -> p.project(gaussian(40, 96, 1), c));
        BasisCandidate d = q.propose(0, gaussian(40, 96, 1));
        d.close();
        assertThrows(IllegalStateException.class, () -> q.accept(d));
        assertFalse(q.hasBasis());
    }

    /** The stored basis's buffers as floats (INT4 codes widened), for comparison. */
    private static float[] values(Map<String, Buffer> parts) {
        java.util.List<Float> out = new java.util.ArrayList<>();
        for (Buffer b : parts.values()) {
            if (b instanceof FloatBuffer f) {
                for (int i = f.position(); i < f.limit(); i++) {
                    out.add(f.get(i));
                }
            } else {
                ByteBuffer y = (ByteBuffer) b;
                for (int i = y.position(); i < y.limit(); i++) {
                    out.add((float) y.get(i));
                }
            }
        }
        float[] a = new float[out.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = out.get(i);
        }
        return a;
    }
}
