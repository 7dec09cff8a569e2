package io.galore4j.galore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.galore4j.galore.ReplicaRuns.Outcome;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Data-parallel replicas under Q-GaLore's settings, their exchange counts, and their faults: a
 * gradient that is not finite on one replica, an owner whose basis computation fails, a replica
 * that leaves (docs/design.md §3.9).
 */
class DataParallelFaultsTest {

    @Test
    void qGaloreReplicasStayBitIdenticalAcrossRefreshes() throws Exception {
        Map<String, Object> s = new HashMap<>(Map.of("method", "q-galore", "rank", 4, "refresh_gap", 2, "svd", "randomized",
                "on_refresh", "rotate", "lazy_window", 2));
        List<Outcome> rs = ReplicaRuns.replicas(3, s, 8, 2, ReplicaRuns.NONE);
        Outcome first = rs.get(0);
        assertEquals(List.of(), first.errors());
        assertTrue(first.svds() >= 2 * 3, "several refreshes of each GaLore layer: " + first.svds());
        assertTrue(first.state().json().toString().contains("int8"), "INT8 weights");
        for (Outcome r : rs.subList(1, rs.size())) {
            r.state().assertSameAs(first.state(), "replica vs replica 0");
            assertEquals(first.checksum(), r.checksum());
            assertEquals(first.events(), r.events());
        }
    }

    @Test
    void theCountsAreWhatWasSent() throws Exception {
        Map<String, Object> s = DataParallelOptimizerTest.settings("galore");
        s.put("refresh", "fixed");
        ExchangeCounts c = ReplicaRuns.replicas(2, s, 4, 1, ReplicaRuns.NONE).get(1).counts();
        // full-rank: the embedding alone, the two norms and the head in one bucket
        assertEquals(4 * (300 * 256 + 32 + 32 + 40 * 32), c.gradientFloats());
        // q 32×48 (left, r×n) and down 48×32 (right, m×r): 4·48 each
        assertEquals(4 * (2 * 4 * 48), c.projectedFloats());
        // refreshes at steps 0 and 2: the full gradients, and payloads of 18 + 8 singular values + 4·32 floats
        assertEquals(2 * (2 * 32 * 48), c.refreshGradientFloats());
        assertEquals(2 * 2 * (18 + 8 + 4 * 32), c.basisFloats());
        assertEquals(4 * 4 + 2 * 2 * 2, c.calls());
        assertTrue(c.nanos() > 0);
    }

    @Test
    void aGradientNotFiniteOnOneReplicaIsRejectedOnEveryReplica() throws Exception {
        ReplicaRuns.Fault fault = (rank, step, micro, name, g) -> {
            boolean bad = rank == 1 && (step == 1 && micro == 1 && name.equals(ReplicaRuns.EMBED)
                    || step == 1 && micro == 0 && name.equals(ReplicaRuns.NORM)       // accumulated: poisons the step
                    || step == 1 && micro == 1 && name.equals(ReplicaRuns.DOWN)       // R
                    || step == 2 && micro == 0 && name.equals(ReplicaRuns.Q));        // at a refresh
            if (bad) {
                g[5] = name.equals(ReplicaRuns.NORM) ? Float.POSITIVE_INFINITY : Float.NaN;
            }
            return g;
        };
        List<Outcome> rs = ReplicaRuns.replicas(2, DataParallelOptimizerTest.settings("galore"), 4, 2, fault);
        List<String> errors = rs.get(0).errors();
        assertEquals(errors, rs.get(1).errors());
        assertEquals(4, errors.size(), errors.toString());
        assertTrue(errors.get(0).startsWith("step 1: gradient of " + ReplicaRuns.EMBED), errors.get(0));
        assertTrue(errors.get(1).startsWith("step 1: projected gradient of " + ReplicaRuns.DOWN), errors.get(1));
        assertTrue(errors.get(2).startsWith("step 1 flush: gradient of " + ReplicaRuns.NORM), errors.get(2));
        assertTrue(errors.get(3).startsWith("step 2: gradient of " + ReplicaRuns.Q) && errors.get(3).contains("refresh"),
                errors.get(3));
        rs.get(1).state().assertSameAs(rs.get(0).state(), "replicas after the rejections");
        assertEquals(rs.get(0).checksum(), rs.get(1).checksum());
        assertTrue(Double.isFinite(rs.get(0).norms()[1]) && rs.get(0).norms()[1] > 0);
        assertEquals(rs.get(0).norms()[1], rs.get(1).norms()[1]);
    }

    @Test
    void anOwnerWhoseBasisComputationFailsMakesEveryReplicaReject() throws Exception {
        // finite values near 1e30: the sum is finite, the basis computation on the owner is not
        ReplicaRuns.Fault fault = (rank, step, micro, name, g) -> {
            if (step == 0 && name.equals(ReplicaRuns.Q)) {
                Arrays.fill(g, 1e30f);
            }
            return g;
        };
        Map<String, Object> s = DataParallelOptimizerTest.settings("galore");
        s.put("svd", "randomized");
        List<Outcome> rs = ReplicaRuns.replicas(2, s, 2, 1, fault);
        List<String> owner = rs.get(0).errors();
        List<String> other = rs.get(1).errors();
        assertEquals(1, owner.size(), owner.toString());
        assertEquals(1, other.size(), other.toString());
        assertTrue(owner.get(0).contains(ReplicaRuns.Q) && other.get(0).contains(ReplicaRuns.Q));
        assertTrue(other.get(0).contains("failed on the replica that owns it"), other.get(0));
        rs.get(1).state().assertSameAs(rs.get(0).state(), "replicas after the failed refresh");
    }

    @Test
    void aReplicaThatLeavesMakesTheOthersNextCallThrow() {
        List<Replicas> members = LocalReplicas.members(2, 10_000);
        try (LayerwiseOptimizer opt = LayerwiseOptimizer.create(OptimSettings.from(Map.of("method", "adamw")), 1,
                members.get(0))) {
            opt.add("w", ReplicaRuns.array(new float[100_000], new long[] {100_000}));
            LocalReplicas.leave(members.get(1));
            float[] g = TestArrays.gaussian(new Random(2), 100_000, 1);
            assertThrows(IllegalStateException.class, () -> opt.update("w", ReplicaRuns.array(g, new long[] {100_000}), 0.1, 1));
        }
    }

    @Test
    void oneReplicaIsASingleProcessAndQueuedUpdatesMustBeFlushed() throws Exception {
        Map<String, Object> s = DataParallelOptimizerTest.settings("galore");
        Outcome one = ReplicaRuns.replicas(1, s, 3, 2, ReplicaRuns.NONE).get(0);
        Outcome single = ReplicaRuns.reference(1, s, 3, 2);
        one.state().assertSameAs(single.state(), "one replica vs a single process");
        assertEquals(ExchangeCounts.NONE, one.counts());
        assertTrue(Double.isNaN(one.norms()[0]));
        List<Replicas> members = LocalReplicas.members(2, 10_000);
        try (LayerwiseOptimizer opt = LayerwiseOptimizer.create(OptimSettings.from(Map.of("method", "adamw")), 1,
                members.get(0))) {
            opt.add("norm", ReplicaRuns.array(new float[8], new long[] {8}));
            opt.update("norm", ReplicaRuns.array(new float[8], new long[] {8}), 0.1, 1); // queued: no call yet
            assertEquals(0, opt.exchangeCounts().calls());
            assertThrows(IllegalStateException.class, opt::endStep);
        }
    }

    @Test
    void theChecksumSeesOneBitOfOneWeight() {
        long[] sums = new long[3];
        for (int variant = 0; variant < 3; variant++) {
            try (LayerwiseOptimizer opt = LayerwiseOptimizer.create(OptimSettings.from(Map.of("method", "adamw")), 1)) {
                float[] w = TestArrays.gaussian(new Random(4), 64, 1);
                if (variant == 2) {
                    w[17] = Math.nextUp(w[17]);
                }
                opt.add("w", ReplicaRuns.array(w, new long[] {64}));
                sums[variant] = opt.stateChecksum();
            }
        }
        assertEquals(sums[0], sums[1]);
        assertNotEquals(sums[0], sums[2]);
        assertFalse(sums[0] == 0);
    }
}
