package io.galore4j.galore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/** In-process replicas: sums in rank order, broadcasts as sums with zeros, and a replica that leaves. */
class LocalReplicasTest {

    private static <T> List<T> onEach(List<Replicas> members, BiFunction<Replicas, Integer, T> body) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(members.size());
        try {
            List<Future<T>> fs = new ArrayList<>();
            for (Replicas m : members) {
                fs.add(pool.submit(() -> body.apply(m, m.rank())));
            }
            List<T> out = new ArrayList<>();
            for (Future<T> f : fs) {
                out.add(f.get(30, TimeUnit.SECONDS));
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void sumsInRankOrderAndBroadcastsTheRootsArray() throws Exception {
        float[][] inputs = {{1e8f, 1f, -0.0f}, {1f, 1e8f, 2f}, {-1e8f, -1e8f, 3f}};
        List<float[][]> out = onEach(LocalReplicas.members(3, 10_000), (m, r) -> {
            float[] sum = inputs[r].clone();
            m.sumInPlace(sum);
            float[] b = {-0.0f, r + 10f};
            m.broadcast(b, 2);
            return new float[][] {sum, b};
        });
        // ((a0 + a1) + a2) in fp32: (1e8 + 1) − 1e8 = 0 and (1 + 1e8) − 1e8 = 0, not 1
        float[] inOrder = {(1e8f + 1f) + -1e8f, (1f + 1e8f) + -1e8f, 5f};
        for (float[][] o : out) {
            assertArrayEquals(inOrder, o[0]);
            assertEquals(Float.floatToRawIntBits(0f), Float.floatToRawIntBits(o[1][0]), "−0.0f of the root arrives as +0.0f");
            assertEquals(12f, o[1][1]);
        }
        assertThrows(IllegalArgumentException.class, () -> LocalReplicas.members(2, 100).get(0).broadcast(new float[1], 2));
    }

    @Test
    void aReplicaThatLeavesMakesEveryWaitingAndLaterCallThrow() throws Exception {
        List<Replicas> members = LocalReplicas.members(3, 10_000);
        ExecutorService pool = Executors.newFixedThreadPool(1);
        try {
            Future<?> waiting = pool.submit(() -> members.get(0).sumInPlace(new float[4]));
            Thread.sleep(200);
            LocalReplicas.leave(members.get(2));
            ExecutionException e = assertThrows(ExecutionException.class, () -> waiting.get(10, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof IllegalStateException, e.getCause().toString());
            IllegalStateException later = assertThrows(IllegalStateException.class, () -> members.get(1).sumInPlace(new float[4]));
            assertTrue(later.getMessage().contains("left"), later.getMessage());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void arraysOfDifferentLengthsFailEveryReplica() throws Exception {
        List<String> out = onEach(LocalReplicas.members(2, 10_000), (m, r) -> {
            try {
                m.sumInPlace(new float[r + 1]);
                return "returned";
            } catch (IllegalStateException e) {
                return e.getMessage();
            }
        });
        for (String s : out) {
            assertTrue(s.contains("different lengths"), s);
        }
    }
}
