package io.galore4j.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * FlashOptim weight splitting against its formula (SplitFloat's javadoc), with the nearest
 * bfloat16 found here independently: the two bfloat16 neighbours of θ (truncation and the next
 * one away from zero), the closer one, ties to the even bit pattern. Bound checked:
 * |θ − θ̂| ≤ (u/2)/254 (half a correction step; the bound (u/2)/127 is twice that) plus
 * half an fp32 ulp of θ̂ for the final rounding, u the bfloat16 ulp of θ'.
 */
class SplitFloatTest {

    /** The nearest bfloat16 to θ (ties to even), as bits, from the two neighbours compared in double. */
    private static short nearestBf16(float theta) {
        int bits = Float.floatToRawIntBits(theta);
        int down = bits & 0xFFFF0000;                 // toward zero
        int up = down + 0x10000;                      // the next bfloat16 away from zero
        double dDown = Math.abs((double) theta - Float.intBitsToFloat(down));
        double dUp = Math.abs((double) theta - Float.intBitsToFloat(up));
        boolean takeUp = dUp < dDown || dUp == dDown && ((down >>> 16) & 1) == 1;
        return (short) ((takeUp ? up : down) >>> 16);
    }

    /**
     * u of a finite bfloat16: its distance to the next bfloat16 away from zero (in double); for the
     * largest one, whose next pattern is infinity, the distance to the previous (same binade).
     */
    private static double ulpOf(short h) {
        int bits = (h & 0xFFFF) << 16;
        float next = Float.intBitsToFloat(bits + 0x10000);
        float other = Float.isInfinite(next) ? Float.intBitsToFloat(bits - 0x10000) : next;
        return Math.abs((double) other - Float.intBitsToFloat(bits));
    }

    /** Checks one value against the formula; returns |θ − θ̂| / ((u/2)/127), the error in correction steps. */
    private static double check(float theta) {
        short h = SplitFloat.high(theta);
        assertEquals(nearestBf16(theta), h, () -> "θ' of " + theta);
        double halfUlp = ulpOf(h) / 2;
        assertEquals(halfUlp, SplitFloat.halfUlp(h), 0.0, () -> "u/2 of " + theta);
        double e = (double) theta - Bf16.toFloat(h);
        assertTrue(Math.abs(e) <= halfUlp, () -> "|θ − θ'| > u/2 for " + theta);
        byte rho = SplitFloat.correction(theta, h);
        assertEquals(Math.rint(e / halfUlp * 127), rho, 0.0, () -> "ρ of " + theta);
        float joined = SplitFloat.join(h, rho);
        double error = Math.abs((double) theta - joined);
        double bound = halfUlp / 254 + Math.ulp(joined) / 2 + halfUlp * 1e-9;
        assertTrue(error <= bound, () -> "θ = " + theta + ": |θ − θ̂| = " + error + " > " + bound);
        return error / (halfUlp / 127);
    }

    @Test
    void reconstructionIsWithinHalfACorrectionStepFrom1eMinus30To1e30() {
        Random r = new Random(9);
        double worst = 0;
        double bf16Worst = 0;
        for (int i = 0; i < 200_000; i++) {
            double magnitude = Math.pow(10, -30 + 60 * r.nextDouble());
            float theta = (float) (r.nextBoolean() ? magnitude : -magnitude);
            worst = Math.max(worst, check(theta));
            short h = SplitFloat.high(theta);
            bf16Worst = Math.max(bf16Worst, Math.abs((double) theta - Bf16.toFloat(h)) / (SplitFloat.halfUlp(h) / 127));
        }
        // half a step, plus the fp32 rounding of θ̂ (at most 127·2⁻¹⁶ ≈ 0.002 steps)
        assertTrue(worst <= 0.5 + 0.002, "worst error " + worst + " correction steps");
        assertTrue(bf16Worst > 100, "bf16 alone is off by up to 127 steps: " + bf16Worst);
    }

    @Test
    void zerosSubnormalsTiesAndTheLargestFloatsFollowTheFormula() {
        for (float theta : new float[] {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, 3 * Float.MIN_VALUE,
                Float.MIN_NORMAL, Math.nextDown(Float.MIN_NORMAL), -Math.nextDown(Float.MIN_NORMAL), 1.17e-39f,
                Float.intBitsToFloat(0x3F808000), Float.intBitsToFloat(0x3F818000), // ties: 1 + 2⁻⁸, 1 + 3·2⁻⁸
                Math.nextDown(1f), Math.nextDown(2f), 1e30f, -1e38f, 3.3895e38f}) {
            check(theta);
        }
        Random r = new Random(4);
        for (int i = 0; i < 20_000; i++) { // subnormal fp32 values: bfloat16 keeps their 2⁻¹³³ spacing
            check(Float.intBitsToFloat(r.nextInt(0x00800000)) * (r.nextBoolean() ? 1 : -1));
        }
        assertEquals((short) 0x3F80, SplitFloat.high(Float.intBitsToFloat(0x3F808000)), "tie to even, down");
        assertEquals((short) 0x3F82, SplitFloat.high(Float.intBitsToFloat(0x3F818000)), "tie to even, up");
    }

    @Test
    void beyondTheLargestBf16TheHighPartStaysFiniteAndTheClipEngages() {
        for (float theta : new float[] {Float.MAX_VALUE, -Float.MAX_VALUE, 3.3962e38f}) {
            short h = SplitFloat.high(theta);
            assertEquals(Bf16.MAX_FINITE, (short) (h & 0x7FFF), "capped at the largest finite bfloat16");
            assertEquals(theta > 0 ? 127 : -127, SplitFloat.correction(theta, h), "clipped to full scale");
            double error = Math.abs((double) theta - SplitFloat.join(h, SplitFloat.correction(theta, h)));
            assertTrue(error < SplitFloat.halfUlp(h), "error " + error + " below u/2");
        }
    }

    @Test
    void exactBf16ValuesSplitIntoThemselvesWithZeroCorrection() {
        Random r = new Random(2);
        for (int i = 0; i < 50_000; i++) {
            short h = (short) r.nextInt(1 << 16);
            if (!Bf16.isFinite(h)) {
                continue;
            }
            float theta = Bf16.toFloat(h);
            assertEquals(h, SplitFloat.high(theta));
            assertEquals(0, SplitFloat.correction(theta, h), () -> "ρ of the bfloat16 " + theta);
            assertEquals(Float.floatToRawIntBits(theta), Float.floatToRawIntBits(SplitFloat.join(h, (byte) 0)));
        }
    }

    @Test
    void arraysRoundTripAndNonFiniteValuesAreRefusedWithTheirIndex() {
        float[] src = {0.02f, -1.5e-7f, 3e5f, 0f};
        short[] high = new short[6];
        byte[] rho = new byte[6];
        SplitFloat.split(src, 0, high, rho, 2, src.length);
        float[] back = new float[4];
        SplitFloat.join(high, rho, 2, 4, back, 0);
        for (int i = 0; i < 4; i++) {
            assertEquals(SplitFloat.join(SplitFloat.high(src[i]), SplitFloat.correction(src[i], SplitFloat.high(src[i]))),
                    back[i], 0f);
        }
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            float[] x = {1f, 2f, bad};
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> SplitFloat.split(x, 0, new short[13], new byte[13], 10, 3));
            assertEquals("split to bf16 + int8: non-finite value " + bad + " at index 12", e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Bf16.ulp((short) 0x7F80));
    }

    @Test
    void bf16RoundingIsNearestEvenAndKeepsSpecialValues() {
        assertEquals((short) 0x3F80, Bf16.round(1f));
        assertEquals((short) 0x7F80, Bf16.round(Float.MAX_VALUE), "overflow to infinity (IEEE)");
        assertEquals((short) 0x8000, Bf16.round(-0f));
        assertTrue(Float.isNaN(Bf16.toFloat(Bf16.round(Float.NaN))));
        Random r = new Random(5);
        for (int i = 0; i < 100_000; i++) {
            float x = Float.intBitsToFloat(r.nextInt());
            if (Float.isFinite(x) && Math.abs(x) < 3.38e38f) {
                assertEquals(nearestBf16(x), Bf16.round(x), () -> "bf16 of " + x);
            }
        }
    }
}
