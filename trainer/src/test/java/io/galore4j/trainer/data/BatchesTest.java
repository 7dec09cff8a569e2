package io.galore4j.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.apache.commons.math3.distribution.ChiSquaredDistribution;
import org.junit.jupiter.api.Test;

class BatchesTest {

    /** Token i at position i, so a window shows where it starts. */
    private static int[] counting(int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = i;
        }
        return t;
    }

    @Test
    void splitSizesFollowTheFraction() {
        TokenSplit split = new TokenSplit(counting(1000), 0.05);
        assertEquals(50, split.valSize());
        assertEquals(950, split.trainSize());
        TokenSplit odd = new TokenSplit(counting(1019), 0.1);
        assertEquals(101, odd.valSize()); // floor(101.9)
        int[] w = new int[3];
        odd.valWindow(0, w);
        assertArrayEquals(new int[] {918, 919, 920}, w); // validation is the tail
        assertThrows(IllegalArgumentException.class, () -> odd.valWindow(99, new int[3]));
        assertThrows(IllegalArgumentException.class, () -> odd.trainWindow(917, new int[2]));
        assertEquals("data.val_fraction must be in [0, 1), got 1.0",
                assertThrows(IllegalArgumentException.class, () -> new TokenSplit(counting(10), 1.0)).getMessage());
        assertEquals("data.val_fraction must be in [0, 1), got NaN",
                assertThrows(IllegalArgumentException.class, () -> new TokenSplit(counting(10), Double.NaN)).getMessage());
    }

    @Test
    void evalWindowsStartAtTheDocumentedOffsets() {
        TokenSplit split = new TokenSplit(counting(10_000), 0.1); // V = 1000
        int seqLen = 16;
        EvalWindows eval = new EvalWindows(split, 3, 4, seqLen);
        int k = 12;
        assertEquals(k, eval.windowCount());
        for (int j = 0; j < 3; j++) {
            int[][] batch = eval.batch(j);
            for (int r = 0; r < 4; r++) {
                int i = j * 4 + r;
                int expected = (int) Math.floor(i * (1000.0 - seqLen - 1) / k);
                assertEquals(expected, eval.offset(i));
                assertEquals(seqLen + 1, batch[r].length);
                assertEquals(9000 + expected, batch[r][0]); // validation starts at token 9000
                assertEquals(9000 + expected + seqLen, batch[r][seqLen]);
            }
        }
        assertEquals("data.val_fraction: the validation part has 10 tokens, fewer than seq_len + 1 = 17",
                assertThrows(IllegalArgumentException.class,
                        () -> new EvalWindows(new TokenSplit(counting(100), 0.1), 1, 1, 16)).getMessage());
    }

    @Test
    void trainingWindowsAreContiguousInTheTrainingPartAndUniform() {
        int n = 2000;
        int seqLen = 9;
        TokenSplit split = new TokenSplit(counting(n), 0.25); // train = 1500 tokens
        TrainingBatches batches = new TrainingBatches(split, 8, seqLen, 123);
        int offsets = 1500 - seqLen; // valid starts 0..1490
        int bins = 10;
        long[] counts = new long[bins];
        int draws = 0;
        for (int step = 0; step < 500; step++) {
            for (int[] row : batches.next()) {
                assertEquals(seqLen + 1, row.length);
                for (int t = 1; t < row.length; t++) {
                    assertEquals(row[0] + t, row[t]);
                }
                assertTrue(row[0] >= 0 && row[seqLen] < 1500, "window must stay in the training part");
                counts[row[0] * bins / offsets]++;
                draws++;
            }
        }
        // chi-square goodness of fit of the start offsets to the uniform distribution, 10 bins
        double expected = (double) draws / bins;
        double chi2 = 0;
        for (long c : counts) {
            chi2 += (c - expected) * (c - expected) / expected;
        }
        double critical = new ChiSquaredDistribution(bins - 1).inverseCumulativeProbability(0.999);
        assertTrue(chi2 < critical, "chi2 " + chi2 + " counts " + Arrays.toString(counts));
        assertEquals(500, batches.batchesDrawn());
    }

    @Test
    void samplerIsDeterministicAndResumesFromItsState() {
        TokenSplit split = new TokenSplit(counting(5000), 0.05);
        TrainingBatches a = new TrainingBatches(split, 4, 32, 99);
        TrainingBatches b = new TrainingBatches(split, 4, 32, 99);
        TrainingBatches other = new TrainingBatches(split, 4, 32, 100);
        for (int i = 0; i < 5; i++) {
            int[][] x = a.next();
            assertArrayEquals(x, b.next());
            assertNotEquals(Arrays.deepToString(x), Arrays.deepToString(other.next()));
        }
        long[] saved = a.state();
        int[][] expected1 = a.next();
        int[][] expected2 = a.next();
        TrainingBatches resumed = new TrainingBatches(split, 4, 32, 12345);
        resumed.restore(saved);
        assertEquals(5, resumed.batchesDrawn());
        assertArrayEquals(expected1, resumed.next());
        assertArrayEquals(expected2, resumed.next());
        assertThrows(IllegalArgumentException.class, () -> resumed.restore(new long[] {1}));
    }

    @Test
    void replicaShardsMakeUpTheOneProcessBatchAndShareItsState() {
        TokenSplit split = new TokenSplit(counting(5000), 0.05);
        TrainingBatches whole = new TrainingBatches(split, 6, 16, 7);
        TrainingBatches[] shards = new TrainingBatches[3];
        for (int r = 0; r < 3; r++) {
            shards[r] = new TrainingBatches(split, 2, 16, 7, r, 3);
        }
        for (int step = 0; step < 4; step++) {
            int[][] x = whole.next();
            for (int r = 0; r < 3; r++) {
                int[][] part = shards[r].next();
                assertArrayEquals(Arrays.copyOfRange(x, 2 * r, 2 * r + 2), part, "replica " + r + ", batch " + step);
                // the sampler's state is global: the same on every replica and as one process's
                assertArrayEquals(whole.state(), shards[r].state());
            }
        }
        // so a run can continue with another number of replicas from the same state
        TrainingBatches two = new TrainingBatches(split, 3, 16, 1, 1, 2);
        two.restore(whole.state());
        int[][] next = whole.next();
        assertArrayEquals(Arrays.copyOfRange(next, 3, 6), two.next());
        assertEquals("replica 2 out of range for 2 replicas",
                assertThrows(IllegalArgumentException.class, () -> new TrainingBatches(split, 1, 8, 1, 2, 2)).getMessage());
    }

    @Test
    void badSamplerSettingsAreRejected() {
        TokenSplit split = new TokenSplit(counting(100), 0.5);
        assertEquals("train.batch_size must be > 0, got 0",
                assertThrows(IllegalArgumentException.class, () -> new TrainingBatches(split, 0, 8, 1)).getMessage());
        assertEquals("data: the training part has 50 tokens, fewer than seq_len + 1 = 51",
                assertThrows(IllegalArgumentException.class, () -> new TrainingBatches(split, 1, 50, 1)).getMessage());
    }
}
