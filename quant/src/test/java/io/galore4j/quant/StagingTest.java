package io.galore4j.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class StagingTest {

    @Test
    void aSlotIsOneArrayPerThreadThatGrowsToTheLargestRequest() throws Exception {
        Staging.Slot<float[]> a = Staging.floats();
        Staging.Slot<float[]> b = Staging.floats();
        float[] first = a.get(100);
        assertTrue(first.length >= 100);
        assertSame(first, a.get(50), "a smaller request reuses the array");
        assertNotSame(first, b.get(100), "each declared slot is its own array");
        float[] grown = a.get(first.length + 1);
        assertTrue(grown.length > first.length);
        assertSame(grown, a.get(10));
        float[] other = CompletableFuture.supplyAsync(() -> a.get(10)).get();
        assertNotSame(grown, other, "another thread gets its own array");
        assertEquals(7, Staging.ints().get(7).length);
        assertEquals(3, Staging.doubles().get(3).length);
    }

    /** Widening is exact and narrowing rounds to nearest, over more than one run, at offsets, position untouched. */
    @Test
    void widenAndNarrowCopyRunsAtAbsoluteIndices() {
        int n = Staging.RUN * 2 + 37;
        FloatBuffer buf = ByteBuffer.allocateDirect(4 * (n + 5)).order(ByteOrder.nativeOrder()).asFloatBuffer();
        for (int i = 0; i < n + 5; i++) {
            buf.put(i, i * 0.1f - 7f);
        }
        buf.position(3);
        double[] d = new double[n + 2];
        Staging.widen(buf, 5, d, 2, n);
        for (int i = 0; i < n; i++) {
            assertEquals((double) buf.get(5 + i), d[2 + i]);
        }
        double[] src = new double[n + 1];
        for (int i = 0; i < n + 1; i++) {
            src[i] = Math.PI * (i - n / 2.0);
        }
        Staging.narrow(src, 1, n, buf, 4);
        for (int i = 0; i < n; i++) {
            assertEquals((float) src[1 + i], buf.get(4 + i));
        }
        assertEquals(3, buf.position());
    }
}
