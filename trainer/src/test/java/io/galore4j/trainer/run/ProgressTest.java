package io.galore4j.trainer.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The plain log lines of {@link Progress} (tests have no console): step count and ETA. */
class ProgressTest {

    private static final Pattern LINE = Pattern.compile("step (\\d+)/(\\d+)  loss ([\\d.]+) .* eta (\\d+):(\\d\\d):(\\d\\d)");

    @Test
    void aResumedRunEstimatesItsEtaFromTheStepsOfThisProcessOnly() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream log = new PrintStream(bytes, true, StandardCharsets.UTF_8);
             Progress p = Progress.of("train", 200, 400, log)) {
            long t0 = System.nanoTime();
            Thread.sleep(50);
            p.update(201, 2.5, 1e-3, 100);
            double elapsed = (System.nanoTime() - t0) / 1e9;
            Matcher m = LINE.matcher(bytes.toString(StandardCharsets.UTF_8));
            assertTrue(m.find(), bytes.toString(StandardCharsets.UTF_8));
            assertEquals(201, Integer.parseInt(m.group(1)));
            assertEquals(400, Integer.parseInt(m.group(2)));
            long eta = Long.parseLong(m.group(4)) * 3600 + Long.parseLong(m.group(5)) * 60 + Long.parseLong(m.group(6));
            // one step took at least 50 ms and 199 remain: at least 9.95 s, and at most 199 × the
            // time measured around the update (counting the 200 earlier steps would give 0 s)
            assertTrue(eta >= 9 && eta <= Math.round(199 * elapsed) + 1, "eta " + eta + " s after " + elapsed + " s");
        }
    }

    @Test
    void doneStepsOutsideTheRunAreRefused() {
        PrintStream log = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        assertThrows(IllegalArgumentException.class, () -> Progress.of("train", 401, 400, log));
        assertThrows(IllegalArgumentException.class, () -> Progress.of("train", -1, 400, log));
    }
}
