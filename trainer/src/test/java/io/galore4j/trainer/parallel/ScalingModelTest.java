package io.galore4j.trainer.parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ScalingModelTest {

    @Test
    void ringAllReduceTimeAndSpeedUpByHand() {
        // 0.5 s of compute, 10 MB and 4 calls per step, 10 µs per round
        ScalingModel m = new ScalingModel(0.5, 10e6, 4, 10e-6);
        // 4 workers at 10 Gb/s: 6 rounds, 6/4 × 8e7 bits / 1e10 b/s = 0.012 s, + 6 × 4 × 1e-5 = 0.00024 s
        assertEquals(0.01224, m.exchangeS(4, 10), 1e-12);
        assertEquals(4 * 0.5 / (0.5 + 0.01224), m.speedUp(4, 10), 1e-12);
        assertEquals(0, m.exchangeS(1, 10));
        assertEquals(1.0, m.speedUp(1, 100), 0);
        // ten times the bandwidth: a tenth of the transfer, the same latency
        assertEquals(0.0012 + 0.00024, m.exchangeS(4, 100), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> new ScalingModel(0, 1, 1, 0));
    }
}
