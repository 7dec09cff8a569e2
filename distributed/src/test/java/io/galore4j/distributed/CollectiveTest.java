package io.galore4j.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** {@link Collective} with N worker threads of one JVM, each joined in its own thread. */
class CollectiveTest {

    private static final int WORKERS = 3;

    /** Each worker's inputs, by the rank the tracker gave it. */
    private static float[] input(int rank, int length, boolean integers) {
        Random random = new Random(1000L + rank);
        float[] data = new float[length];
        for (int i = 0; i < length; i++) {
            data[i] = integers ? random.nextInt(201) - 100 : (float) random.nextGaussian();
        }
        return data;
    }

    /** Runs {@code work} on WORKERS threads, each a member of one collective; results by rank. */
    private static List<float[]> runWorkers(Function<Collective, float[]> work)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(WORKERS);
        try (CollectiveTracker tracker = CollectiveTracker.start(WORKERS, "127.0.0.1", 30)) {
            List<Future<float[]>> futures = new ArrayList<>();
            for (int w = 0; w < WORKERS; w++) {
                HashMap<String, Object> args = tracker.workerArgs();
                futures.add(pool.submit(() -> {
                    try (Collective c = Collective.join(args)) {
                        assertEquals(WORKERS, c.worldSize());
                        float[] out = work.apply(c);
                        float[] tagged = Arrays.copyOf(out, out.length + 1);
                        tagged[out.length] = c.rank();
                        return tagged;
                    }
                }));
            }
            float[][] byRank = new float[WORKERS][];
            for (Future<float[]> f : futures) {
                float[] tagged = f.get(60, TimeUnit.SECONDS);
                int rank = (int) tagged[tagged.length - 1];
                assertEquals(null, byRank[rank], "two workers got rank " + rank);
                byRank[rank] = Arrays.copyOf(tagged, tagged.length - 1);
            }
            return Arrays.asList(byRank);
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS), "worker threads did not end");
        }
    }

    @Test
    void sumOfSmallIntegersIsTheExactJavaSumOnEveryRank() throws Exception {
        int n = 1000;
        List<float[]> out = runWorkers(c -> {
            float[] data = input(c.rank(), n, true);
            c.sumInPlace(data);
            return data;
        });
        float[] expected = new float[n];
        for (int r = 0; r < WORKERS; r++) {
            float[] in = input(r, n, true);
            for (int i = 0; i < n; i++) {
                expected[i] += in[i];
            }
        }
        for (int r = 0; r < WORKERS; r++) {
            assertArrayEquals(expected, out.get(r), "rank " + r);
        }
    }

    @Test
    void sumOfRandomFloatsIsBitIdenticalAcrossRanksAndCloseToTheJavaSum() throws Exception {
        int n = 100_003;
        List<float[]> out = runWorkers(c -> {
            float[] data = input(c.rank(), n, false);
            c.sumInPlace(data);
            // a second call on the same membership: the sentinel and the data both stay right
            float[] again = input(c.rank(), n, false);
            c.sumInPlace(again);
            assertArrayEquals(data, again, "rank " + c.rank() + ": repeated sum differs");
            return data;
        });
        for (int r = 1; r < WORKERS; r++) {
            int[] a = bits(out.get(0));
            int[] b = bits(out.get(r));
            assertArrayEquals(a, b, "rank " + r + " differs in bits from rank 0");
        }
        float[][] inputs = new float[WORKERS][];
        for (int r = 0; r < WORKERS; r++) {
            inputs[r] = input(r, n, false);
        }
        for (int i = 0; i < n; i++) {
            double sum = 0;
            double magnitude = 0;
            for (int r = 0; r < WORKERS; r++) {
                sum += inputs[r][i];
                magnitude += Math.abs(inputs[r][i]);
            }
            // an fp32 sum of WORKERS terms in some order: within a few ulps of the exact sum
            assertEquals(sum, out.get(0)[i], WORKERS * Math.ulp((float) magnitude), "element " + i);
        }
    }

    @Test
    void broadcastDeliversTheRootsArrayToEveryRank() throws Exception {
        int n = 4097;
        int root = 1;
        List<float[]> out = runWorkers(c -> {
            float[] data = input(c.rank(), n, false);
            c.broadcast(data, root);
            return data;
        });
        float[] rootInput = input(root, n, false);
        for (int r = 0; r < WORKERS; r++) {
            assertArrayEquals(bits(rootInput), bits(out.get(r)), "rank " + r);
        }
    }

    @Test
    void aSentinelThatDoesNotSumToTheWorldSizeThrowsNamingRankAndCall() {
        // rank 1 of 2 whose peer has gone: the "sum" returns this rank's buffer unchanged
        Collective lonely = new Collective(1, 2, float[]::clone, false);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> lonely.sumInPlace(new float[] {1f, 2f}));
        assertTrue(e.getMessage().contains("rank 1 of 2"), e.getMessage());
        assertTrue(e.getMessage().contains("call 1 (sumInPlace of 2 floats)"), e.getMessage());
        assertTrue(e.getMessage().contains("sentinel summed to 1.0"), e.getMessage());

        // a correct sum for two ranks passes, then a result that lost the sentinel fails on call 2
        int[] call = {0};
        Collective two = new Collective(0, 2, buf -> {
            float[] out = buf.clone();
            for (int i = 0; i < out.length; i++) {
                out[i] *= 2;
            }
            if (++call[0] == 2) {
                out[out.length - 1] = 2.0000002f;
            }
            return out;
        }, false);
        float[] data = {3f, -1f};
        two.sumInPlace(data);
        assertArrayEquals(new float[] {6f, -2f}, data);
        float[] kept = {5f, 7f};
        IllegalStateException e2 = assertThrows(IllegalStateException.class, () -> two.broadcast(kept, 0));
        assertTrue(e2.getMessage().contains("rank 0 of 2, call 2 (broadcast from rank 0 of 2 floats)"),
                e2.getMessage());
        assertArrayEquals(new float[] {5f, 7f}, kept, "a failed call must leave the data untouched");
    }

    @Test
    void aMemberIsUsedOnlyFromTheThreadThatJoined() throws Exception {
        Collective c = new Collective(0, 1, float[]::clone, false);
        Thread other = new Thread(() -> {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> c.sumInPlace(new float[] {1f}));
            assertTrue(e.getMessage().contains("used only from it"), e.getMessage());
        });
        Throwable[] failure = new Throwable[1];
        other.setUncaughtExceptionHandler((t, ex) -> failure[0] = ex);
        other.start();
        other.join();
        assertEquals(null, failure[0]);
        c.close();
        assertThrows(IllegalStateException.class, () -> c.sumInPlace(new float[] {1f}));
    }

    @Test
    void aTrackerStoppedBeforeItsWorkersJoinedEndsItsNativeThread() throws Exception {
        long before = NativeThreads.unnamed();
        CollectiveTracker tracker = CollectiveTracker.start(2, "127.0.0.1", 30);
        try {
            tracker.close();
        } catch (IllegalStateException e) {
            // the native tracker reports its abandoned wait for workers; the stop still happened
            assertTrue(e.getMessage().startsWith("collective tracker: stopped with an error"), e.getMessage());
        }
        tracker.close(); // a second close does nothing
        assertEquals(before, NativeThreads.unnamed(), "the tracker's native thread is still running");
    }

    private static int[] bits(float[] a) {
        int[] b = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = Float.floatToRawIntBits(a[i]);
        }
        return b;
    }
}
