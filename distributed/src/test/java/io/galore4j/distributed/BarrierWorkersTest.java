package io.galore4j.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;

/** {@link BarrierWorkers} on Spark {@code local[2]}: two barrier tasks sum a vector together. */
class BarrierWorkersTest {

    private static float[] input(int partition, int length) {
        float[] data = new float[length];
        for (int i = 0; i < length; i++) {
            data[i] = (partition + 1) * (i % 17) - 8;
        }
        return data;
    }

    @Test
    void twoBarrierTasksGetTheSameSumAndLeaveNoThreadRunning() throws Exception {
        Set<Thread> before = liveThreads();
        long nativeBefore = NativeThreads.unnamed();
        int n = 10_000;
        SparkConf conf = new SparkConf().setMaster("local[2]").setAppName("galore4j-barrier-test")
                .set("spark.ui.enabled", "false")
                .set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1");
        List<BarrierWorkers.Result> results;
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            results = BarrierWorkers.run(sc, 2, 30, (collective, partition) -> {
                float[] data = input(partition, n);
                collective.sumInPlace(data);
                return data;
            });
        }
        assertEquals(2, results.size());
        assertEquals(Set.of(0, 1), results.stream().map(BarrierWorkers.Result::partition).collect(Collectors.toSet()));
        assertEquals(Set.of(0, 1), results.stream().map(BarrierWorkers.Result::rank).collect(Collectors.toSet()));
        float[] expected = new float[n];
        for (int p = 0; p < 2; p++) {
            float[] in = input(p, n);
            for (int i = 0; i < n; i++) {
                expected[i] += in[i];
            }
        }
        assertArrayEquals(expected, results.get(0).data());
        assertArrayEquals(expected, results.get(1).data());

        // Every thread the context, the tracker and the workers started must end (Netty's global
        // executor idles out about a second after its last task, hence the wait); the JDK's and
        // Netty's process-wide pools are not the context's to stop.
        Set<Thread> left = Set.of();
        long nativeLeft = 0;
        for (long end = System.nanoTime() + 10_000_000_000L; System.nanoTime() < end; Thread.sleep(100)) {
            left = liveThreads();
            left.removeAll(before);
            left.removeIf(t -> SHARED_POOLS.stream().anyMatch(t.getName()::startsWith));
            nativeLeft = NativeThreads.unnamed() - nativeBefore;
            if (left.isEmpty() && nativeLeft <= 0) {
                break;
            }
        }
        assertTrue(left.isEmpty(), "threads left running: " + left);
        assertTrue(nativeLeft <= 0, nativeLeft + " native threads (the tracker's) left running");
    }

    private static final List<String> SHARED_POOLS =
            List.of("process reaper", "ForkJoinPool.commonPool", "globalEventExecutor");

    private static Set<Thread> liveThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive)
                .collect(Collectors.toSet());
    }
}
