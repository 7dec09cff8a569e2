package io.galore4j.galore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class NormGrowthLimiterTest {

    @Test
    void growthAboveGammaIsCutToGammaTimesTheLastAppliedNorm() {
        NormGrowthLimiter l = new NormGrowthLimiter(1.01);
        assertEquals(1.0, l.factor(5.0)); // the first update passes
        assertEquals(5.0, l.last());
        assertEquals(1.0, l.factor(5.05)); // exactly γ: passes
        assertEquals(1.01 * 5.05 / 8.0, l.factor(8.0), 1e-15); // 8 > 1.01 × 5.05: cut to 5.1005
        assertEquals(1.01 * 5.05, l.last(), 1e-15);
        assertEquals(1.0, l.factor(1.0)); // shrinking is never limited
        NormGrowthLimiter copy = new NormGrowthLimiter(1.01);
        copy.restore(l.state());
        assertEquals(l.factor(3.0), copy.factor(3.0));
        assertThrows(IllegalArgumentException.class, () -> new NormGrowthLimiter(0.9));
    }
}
