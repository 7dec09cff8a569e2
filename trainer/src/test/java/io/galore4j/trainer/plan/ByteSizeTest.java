package io.galore4j.trainer.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The sizes a budget is written in. */
class ByteSizeTest {

    @Test
    void binaryAndDecimalUnitsAndFractions() {
        assertEquals(16L << 30, ByteSize.parse("16GiB"));
        assertEquals(16L << 30, ByteSize.parse("16G"));
        assertEquals(16L << 30, ByteSize.parse("16g"));
        assertEquals(4L << 30, ByteSize.parse(" 4 GiB "));
        assertEquals(256L << 20, ByteSize.parse("256MiB"));
        assertEquals(256L << 20, ByteSize.parse("256M"));
        assertEquals(3L << 29, ByteSize.parse("1.5GiB"));
        assertEquals(4_000_000_000L, ByteSize.parse("4GB"));
        assertEquals(512L << 10, ByteSize.parse("512KiB"));
        assertEquals(2L << 40, ByteSize.parse("2T"));
        assertEquals(1234, ByteSize.parse("1234"));
        assertEquals(1234, ByteSize.parse("1234B"));
    }

    @Test
    void aBadSizeIsOneLineNamingIt() {
        for (String bad : new String[] {"", "GiB", "16XB", "-1G", "1e9", "16 GiB GiB", "0", "0.5B", "9999999T"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ByteSize.parse(bad), bad);
            assertTrue(e.getMessage().contains("'" + bad + "'") && !e.getMessage().contains("\n"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> ByteSize.parse(null));
    }

    @Test
    void formatsAsTheMemoryTableDoes() {
        assertEquals("256.00 MiB", ByteSize.format(256L << 20));
        assertEquals("16.00 GiB", ByteSize.format(16L << 30));
    }
}
