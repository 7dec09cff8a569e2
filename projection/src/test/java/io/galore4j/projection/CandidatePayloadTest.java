package io.galore4j.projection;

import static io.galore4j.projection.TestMatrices.gaussian;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A basis candidate sent as floats to other replicas (docs/design.md §3.9): the receivers, and the
 * owner using the same broadcast copy, end with the same stored basis, statistics and solver state,
 * over two refreshes (the second measured against the first).
 */
class CandidatePayloadTest {

    /** What a broadcast does to the floats: the root's values plus zeros (−0.0f becomes +0.0f). */
    private static float[] broadcast(float[] payload) {
        float[] out = payload.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] += 0f;
        }
        return out;
    }

    private static Projector projector(int bits, Side side, int m, int n) {
        ProjectorConfig c = ProjectorConfig.of(4).withSide(side).withBasisBits(bits);
        return new Projector("w", m, n, new ProjectorConfig(c.rank(), c.scale(), side, BasisMethod.RANDOMIZED,
                c.oversampling(), c.powerIterations(), 9, bits), RefreshPolicy.fixed(1));
    }

    @ParameterizedTest
    @CsvSource({"32, LEFT", "32, RIGHT", "4, LEFT", "4, RIGHT"})
    void receiversAndTheOwnerKeepTheSameBasisAndStatistics(int bits, Side side) {
        int m = 40;
        int n = 600;
        Projector owner = projector(bits, side, m, n);
        Projector receiver = projector(bits, side, m, n);
        long d = side == Side.LEFT ? m : n;
        long codeBytes = (4 * d + 1) / 2; // two INT4 codes per byte, three bytes per float
        long basis = bits == 32 ? 4 * d : (codeBytes + 2) / 3 + 2 * ((4 * d + 255) / 256) + d;
        assertEquals(18 + 8 + basis, owner.payloadFloats());
        assertEquals(owner.payloadFloats(), BasisCandidate.payloadFloats(bits, 4, d, BasisCandidate.singularValuesSent(4)));
        for (int step = 0; step < 2; step++) {
            float[] payload = new float[owner.payloadFloats()];
            try (BasisCandidate c = owner.propose(step, gaussian(m, n, 5 + step))) {
                owner.writePayload(c, payload);
            }
            float[] sent = broadcast(payload);
            SubspaceStats a = owner.accept(owner.candidate(step, sent));
            SubspaceStats b = receiver.accept(receiver.candidate(step, sent.clone()));
            assertEquals(a, b, "statistics, bit for bit (the solve time included)");
            assertEquals(owner.state(), receiver.state(), "policy and solver call count");
            assertSame(owner.basisParts(), receiver.basisParts());
            assertTrue(a.energy() > 0 && (step == 0 || a.hasPrevious()));
        }
        assertEquals(2L, owner.state().get("solver_calls"));
    }

    @ParameterizedTest
    @CsvSource({"32", "4"})
    void anAllZeroPayloadIsAFailedOwner(int bits) {
        Projector p = projector(bits, Side.LEFT, 20, 30);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> p.candidate(0, new float[p.payloadFloats()]));
        assertTrue(e.getMessage().contains("failed on the replica that owns it"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> p.candidate(0, new float[p.payloadFloats() + 1]));
    }

    private static void assertSame(Map<String, Buffer> a, Map<String, Buffer> b) {
        assertEquals(a.keySet(), b.keySet());
        a.forEach((k, x) -> {
            if (x instanceof FloatBuffer f) {
                float[] u = new float[f.remaining()];
                float[] v = new float[u.length];
                f.duplicate().get(u);
                ((FloatBuffer) b.get(k)).duplicate().get(v);
                assertArrayEquals(u, v, k);
            } else {
                ByteBuffer y = (ByteBuffer) x;
                byte[] u = new byte[y.remaining()];
                byte[] v = new byte[u.length];
                y.duplicate().get(u);
                ((ByteBuffer) b.get(k)).duplicate().get(v);
                assertArrayEquals(u, v, k);
            }
        });
    }
}
