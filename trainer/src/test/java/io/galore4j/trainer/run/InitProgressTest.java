package io.galore4j.trainer.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class InitProgressTest {

    private static List<String> lines(long total, long... chunks) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream log = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        InitProgress p = InitProgress.of(total, log);
        for (long c : chunks) {
            p.add(c);
        }
        String text = bytes.toString(StandardCharsets.UTF_8);
        return text.isEmpty() ? List.of() : List.of(text.split("\n"));
    }

    @Test
    void aLargeModelGetsOneLineForEachTenthReached() {
        long total = 1_000_000_000L;
        long[] chunks = new long[40];
        java.util.Arrays.fill(chunks, total / 40);
        List<String> lines = lines(total, chunks);
        assertEquals(10, lines.size(), String.join("\n", lines));
        for (int i = 0; i < 10; i++) {
            assertTrue(lines.get(i).startsWith("galore train: initialized " + (10 * (i + 1)) + "% of 1,000,000,000 parameters ("),
                    lines.get(i));
        }
    }

    @Test
    void aChunkSpanningSeveralTenthsPrintsOnlyTheTenthReached() {
        List<String> lines = lines(200_000_000L, 10_000_000L, 150_000_000L, 40_000_000L);
        assertEquals(2, lines.size(), String.join("\n", lines));
        assertTrue(lines.get(0).contains(" 80% of "), lines.get(0));
        assertTrue(lines.get(1).contains(" 100% of "), lines.get(1));
    }

    @Test
    void aSmallModelPrintsNothing() {
        assertEquals(List.of(), lines(InitProgress.LARGE - 1, InitProgress.LARGE - 1));
        assertEquals(1, lines(InitProgress.LARGE, InitProgress.LARGE).size());
    }

    @Test
    void aNonPositiveTotalIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> InitProgress.of(0, System.out));
    }
}
