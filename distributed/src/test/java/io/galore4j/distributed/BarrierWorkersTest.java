package io.galore4j.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link BarrierWorkers} on Spark {@code local[2]}: two barrier tasks sum a vector together, and
 * a worker that leaves early fails the stage through its peer's sentinel check. Each test checks
 * that no thread of the context, the tracker or the workers is left running.
 */
class BarrierWorkersTest {

    private static final List<String> SHARED_POOLS =
            List.of("process reaper", "ForkJoinPool.commonPool", "globalEventExecutor");

    private static float[] input(int partition, int length) {
        float[] data = new float[length];
        for (int i = 0; i < length; i++) {
            data[i] = (partition + 1) * (i % 17) - 8;
        }
        return data;
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void twoBarrierTasksGetTheSameExactSum() throws Exception {
        int n = 10_000;
        List<BarrierWorkers.Result> results = withLocalSpark(sc -> BarrierWorkers.run(sc, 2, 30,
                (collective, partition) -> {
                    float[] data = input(partition, n);
                    collective.sumInPlace(data);
                    return data;
                }));
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
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aWorkerThatLeavesEarlyFailsTheStageThroughItsPeersSentinel() throws Exception {
        SparkException e = withLocalSpark(sc -> assertThrows(SparkException.class,
                () -> BarrierWorkers.run(sc, 2, 30, (collective, partition) -> {
                    float[] data = new float[1000];
                    if (collective.rank() == 1) {
                        return data; // leaves the collective without taking part in any sum
                    }
                    for (int i = 0; i < 100; i++) {
                        collective.sumInPlace(data);
                    }
                    return data;
                })));
        // the native sum without its peer returns this rank's own values or garbage, never an error
        String message = e.getMessage();
        assertTrue(message.contains("collective: rank 0 of 2, call 1 (sumInPlace of 1000 floats): sentinel summed to ")
                && message.contains(", expected 2; a peer failed or left"), message);
    }

    /**
     * Runs {@code job} against a fresh {@code local[2]} context, stops it, and then requires every
     * thread the context, the tracker and the workers started to end within 10 s (Netty's event
     * loops and global executor wind down over a second or two after the stop); the JDK's and
     * Netty's process-wide pools are not the context's to stop.
     */
    private static <T> T withLocalSpark(Function<JavaSparkContext, T> job) throws Exception {
        Set<Thread> before = liveThreads();
        long nativeBefore = NativeThreads.unnamed();
        SparkConf conf = new SparkConf().setMaster("local[2]").setAppName("galore4j-barrier-test")
                .set("spark.ui.enabled", "false")
                .set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1");
        T result;
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            result = job.apply(sc);
        }
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
        return result;
    }

    private static Set<Thread> liveThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive)
                .collect(Collectors.toSet());
    }
}
