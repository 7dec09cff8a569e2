package io.galore4j.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BitPackingTest {

    /** Every code value at every position of an 8-code group, next to every code value at the following position. */
    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4})
    void everyCodePatternRoundTripsInExactlyBitsBytesPerEightCodes(int bits) {
        int levels = 1 << bits;
        Random r = new Random(bits);
        for (int pos = 0; pos < 8; pos++) {
            for (int a = 0; a < levels; a++) {
                for (int b = 0; b < levels; b++) {
                    byte[] codes = new byte[16];
                    for (int j = 0; j < 16; j++) {
                        codes[j] = (byte) r.nextInt(levels);
                    }
                    codes[pos] = (byte) a;
                    codes[pos + 1] = (byte) b;
                    byte[] packed = new byte[2 * bits]; // 16 codes in exactly 2·bits bytes
                    BitPacking.pack(codes, 16, bits, packed, 0);
                    byte[] back = new byte[16];
                    BitPacking.unpack(packed, 0, 16, bits, back);
                    assertArrayEquals(codes, back);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4})
    void tailsAndOffsetsRoundTripWithinTheExactByteCount(int bits) {
        Random r = new Random(10 + bits);
        for (int n = 1; n <= 70; n++) {
            int first = 8 * r.nextInt(4);
            int total = first + n;
            assertEquals((total * bits + 7) / 8, BitPacking.bytes(bits, total));
            byte[] packed = new byte[BitPacking.bytes(bits, total)]; // exact size: overrun would throw
            byte[] codes = new byte[n];
            for (int j = 0; j < n; j++) {
                codes[j] = (byte) r.nextInt(1 << bits);
            }
            BitPacking.pack(codes, n, bits, packed, first);
            byte[] back = new byte[n];
            BitPacking.unpack(packed, first, n, bits, back);
            assertArrayEquals(codes, back, "n=" + n + " first=" + first);
        }
    }
}
