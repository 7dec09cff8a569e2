package io.galore4j.galore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.galore4j.galore.ReplicaRuns.Outcome;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Data-parallel replicas (docs/design.md §3.9), each given its shard's gradients, end bit-identical
 * to each other and match one process given the mean gradient: AdamW, GaLore, APOLLO, APOLLO-Mini
 * and Fira, with and without gradient accumulation, on 2 and 3 replicas.
 */
class DataParallelOptimizerTest {
    static final String PROJECTION = ".*(self_attn|mlp)\\..*_proj\\.weight";

    static Map<String, Object> settings(String method) {
        Map<String, Object> s = new HashMap<>(Map.of("method", method, "rank", 4, "refresh_gap", 2, "svd", "exact",
                "projection", PROJECTION));
        if (method.equals("adamw")) {
            s.keySet().removeAll(List.of("rank", "refresh_gap", "svd", "projection"));
        } else if (method.equals("apollo")) {
            s.remove("svd"); // no basis to compute
        }
        return s;
    }

    private static List<Map<String, Object>> withoutTimes(List<io.galore4j.projection.SubspaceStats> events) {
        return events.stream().map(e -> {
            Map<String, Object> m = new HashMap<>(e.toMap());
            m.remove("basis_ms");
            return (Map<String, Object>) m;
        }).toList();
    }

    @ParameterizedTest
    @CsvSource({"adamw, 2, 1", "adamw, 3, 2", "galore, 2, 1", "galore, 3, 2", "galore, 2, 2", "apollo, 2, 1",
        "apollo, 3, 2", "apollo-mini, 2, 2", "fira, 2, 1", "fira, 3, 2"})
    void replicasAreIdenticalAndMatchOneProcessGivenTheMeanGradient(String method, int n, int micro) throws Exception {
        int steps = 5;
        List<Outcome> rs = ReplicaRuns.replicas(n, settings(method), steps, micro, ReplicaRuns.NONE);
        Outcome ref = ReplicaRuns.reference(n, settings(method), steps, micro);
        Outcome first = rs.get(0);
        assertEquals(List.of(), first.errors());
        for (Outcome r : rs) {
            r.state().assertSameAs(first.state(), "replica vs replica 0");
            assertEquals(first.checksum(), r.checksum());
            if (method.startsWith("apollo")) { // each replica times its own draw of P
                assertEquals(withoutTimes(first.events()), withoutTimes(r.events()), "seed-change statistics, bit for bit");
            } else {
                assertEquals(first.events(), r.events(), "refresh statistics, bit for bit");
            }
            assertArrayEquals(first.norms(), r.norms());
        }
        // the reference sums the micro-batches' means, the replicas take the mean of their sums: the
        // same value up to fp32 rounding, which Fira's residual G − PR (most of G cancels) magnifies
        double tolerance = method.equals("fira") && micro > 1 ? 1e-5 : 1e-6;
        for (String name : ReplicaRuns.SHAPES.keySet()) {
            double err = TestArrays.relativeError(first.weights().get(name), ref.weights().get(name));
            assertTrue(err < tolerance, name + ": relative error " + err + " against one process given the mean");
        }
        assertEquals(ref.svds(), first.svds());
        if (method.startsWith("apollo")) {
            assertEquals(0, first.svds(), "APOLLO computes no basis");
            assertEquals(0, first.counts().projectedFloats(), "APOLLO exchanges the full gradient");
        } else if (!method.equals("adamw")) {
            assertEquals(2 * 3, first.svds(), "two layers refresh at steps 0, 2, 4");
            for (int i = 0; i < ref.events().size(); i++) { // same basis from the same mean gradient
                assertEquals(ref.events().get(i).overlap(), first.events().get(i).overlap(), 1e-6);
            }
        }
        for (double norm : first.norms()) {
            assertTrue(norm > 0 && Double.isFinite(norm));
        }
        if (method.equals("adamw") && micro == 1) { // the same sums in the same order: the same bits
            ref.state().assertSameAs(first.state(), "replica vs one process");
            assertEquals(ref.checksum(), first.checksum());
        }
    }
}
