package io.galore4j.trainer.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.galore4j.trainer.MemoryEstimate;
import io.galore4j.trainer.config.ConfigTree;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The plan: what it searches, its order, and a budget nothing fits. */
class MemoryPlanTest {

    private static final long MIB = 1L << 20;

    private static ConfigTree micro(String... sets) throws Exception {
        return ConfigTree.defaults().with(null, List.of(sets));
    }

    @Test
    void everyConfigurationFitsAndTheOrderIsTotalAndRepeatable() throws Exception {
        ConfigTree base = micro();
        MemoryPlan.Plan a = MemoryPlan.search(base, 560 * MIB, 4, List.of(), Set.of());
        MemoryPlan.Plan b = MemoryPlan.search(base, 560 * MIB, 4, List.of(), Set.of());
        assertTrue(a.fits().size() > 10, "fits: " + a.fits().size());
        assertEquals(a.fits().stream().map(PlanEntry::setLine).toList(), b.fits().stream().map(PlanEntry::setLine).toList());
        for (int i = 0; i < a.fits().size(); i++) {
            PlanEntry e = a.fits().get(i);
            assertTrue(e.estimate().totalBytes() <= 560 * MIB, e.describe());
            // each entry's estimate is the estimator's for its own --set line
            ConfigTree t = base.with(null, e.sets());
            assertEquals(MemoryEstimate.of(t, null, null).totalBytes(), e.estimate().totalBytes());
            assertEquals(4, e.microBatch() * e.gradAccum());
            if (i > 0) {
                assertTrue(PlanEntry.ORDER.compare(a.fits().get(i - 1), e) < 0, a.fits().get(i - 1).describe() + " / " + e.describe());
            }
        }
        // full-rank before projected, then higher rank first
        PlanEntry first = a.fits().get(0);
        assertEquals(0, first.rank());
        int lastRank = Integer.MAX_VALUE;
        for (PlanEntry e : a.fits()) {
            int r = e.rank() == 0 ? Integer.MAX_VALUE : e.rank();
            assertTrue(r <= lastRank, e.describe());
            lastRank = r;
        }
        assertTrue(a.fits().stream().anyMatch(e -> e.rank() == 64) && a.fits().stream().anyMatch(e -> e.rank() == 16));
    }

    @Test
    void checkpointingAndSmallerMicroBatchesOnlyWhereTheyBuySomething() throws Exception {
        // at 64 × 128 tokens the activations decide: without checkpointing only small micro-batches fit
        MemoryPlan.Plan p = MemoryPlan.search(micro(), 900 * MIB, 64, List.of("galore"), Set.of());
        for (PlanEntry e : p.fits()) {
            List<String> others = e.sets().stream().filter(s -> !s.startsWith("model.checkpoint_activations")
                    && !s.startsWith("train.")).toList();
            List<PlanEntry> same = p.fits().stream().filter(o -> o.sets().stream().filter(s -> !s.startsWith(
                    "model.checkpoint_activations") && !s.startsWith("train.")).toList().equals(others)).toList();
            assertTrue(same.size() <= 2, e.describe());
            if (same.size() == 2) { // checkpointing listed only with a larger micro-batch
                PlanEntry without = same.get(0).estimate().checkpointed() ? same.get(1) : same.get(0);
                PlanEntry with = same.get(0).estimate().checkpointed() ? same.get(0) : same.get(1);
                assertTrue(with.microBatch() > without.microBatch(), with.describe());
            }
            // the next larger micro-batch of the same settings does not fit
            int larger = e.microBatch() * 2;
            if (larger <= 64) {
                ConfigTree t = micro().with(null, e.sets()).set("train.batch_size=" + larger).set("train.grad_accum=" + 64 / larger);
                assertTrue(MemoryEstimate.of(t, null, null).totalBytes() > 900 * MIB, e.describe());
            }
        }
        assertTrue(p.fits().stream().anyMatch(e -> e.estimate().checkpointed()));
    }

    @Test
    void firaAndApolloArePlannedWithAccumulation() throws Exception {
        MemoryPlan.Plan p = MemoryPlan.search(micro(), 900 * MIB, 64, List.of("fira", "apollo"), Set.of());
        for (String method : List.of("fira", "apollo")) {
            assertTrue(p.fits().stream().anyMatch(e -> e.method().equals(method) && e.gradAccum() > 1), method);
        }
    }

    @Test
    void fixedSettingsAreNotVaried() throws Exception {
        ConfigTree base = micro("optim.method=q-galore", "optim.rank=32", "model.checkpoint_activations=true");
        MemoryPlan.Plan p = MemoryPlan.search(base, 2048 * MIB, 8, List.of(),
                Set.of("optim.method", "optim.rank", "model.checkpoint_activations"));
        assertFalse(p.fits().isEmpty());
        for (PlanEntry e : p.fits()) {
            assertEquals("q-galore", e.method());
            assertEquals(32, e.rank());
            assertTrue(e.estimate().checkpointed());
            assertTrue(e.sets().stream().noneMatch(s -> s.startsWith("optim.method") || s.startsWith("optim.rank")
                    || s.startsWith("model.")), e.sets().toString());
        }
        assertThrows(IllegalArgumentException.class, () -> MemoryPlan.search(base, 2048 * MIB, 8, List.of(),
                Set.of("train.batch_size")));
    }

    @Test
    void aBudgetNothingFitsNamesTheSmallestEstimate() throws Exception {
        MemoryPlan.Plan p = MemoryPlan.search(micro(), 256 * MIB, 1, List.of(), Set.of());
        assertTrue(p.fits().isEmpty());
        long smallest = p.smallest().estimate().totalBytes();
        assertTrue(smallest > 256 * MIB);
        MemoryPlan.Plan roomy = MemoryPlan.search(micro(), 1L << 40, 1, List.of(), Set.of());
        assertTrue(roomy.fits().stream().allMatch(e -> e.estimate().totalBytes() >= smallest));
        assertEquals(smallest, MemoryEstimate.of(micro().with(null, p.smallest().sets()), null, null).totalBytes());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, p::first);
        assertEquals("nothing fits in 256.00 MiB: the smallest configuration (" + p.smallest().describe()
                + ") needs an estimated " + ByteSize.format(smallest), e.getMessage());
    }

    @Test
    void measuredQualityIsShownForMeasuredMethodsOnly() {
        Quality q = Quality.load();
        assertEquals(2.0278, q.of("fira").valLoss());
        assertTrue(q.of("fira").section().contains("Fira"));
        assertNull(q.of("sgd"));
    }
}
