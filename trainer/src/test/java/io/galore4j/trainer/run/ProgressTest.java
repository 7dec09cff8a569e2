package io.galore4j.trainer.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@link Progress}: the plain log lines (step count, ETA, how often) and the bar's line (its width, its labels). */
class ProgressTest {

    private static final Pattern LINE = Pattern.compile("step (\\d+)/(\\d+)  loss ([\\d.]+) .* eta (\\d+):(\\d\\d):(\\d\\d)");

    @Test
    void aResumedRunEstimatesItsEtaFromTheStepsOfThisProcessOnly() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream log = new PrintStream(bytes, true, StandardCharsets.UTF_8);
             Progress p = Progress.of("train", 200, 400, 1, log, null)) {
            long t0 = System.nanoTime();
            Thread.sleep(50);
            p.update(201, 2.5, 1e-3, 100, false);
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
        assertThrows(IllegalArgumentException.class, () -> Progress.of("train", 401, 400, 1, log));
        assertThrows(IllegalArgumentException.class, () -> Progress.of("train", -1, 400, 1, log));
        assertThrows(IllegalArgumentException.class, () -> Progress.of("train", 0, 400, 0, log));
    }

    @Test
    void withoutATerminalALineIsPrintedEveryLogEveryStepsAndAtTheLast() {
        for (int[] c : new int[][] {{10, 3}, {10, 5}, {7, 1}, {5, 10}}) {
            int steps = c[0];
            int every = c[1];
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (PrintStream log = new PrintStream(bytes, true, StandardCharsets.UTF_8);
                 Progress p = Progress.of("train", 0, steps, every, log, null)) {
                for (int done = 1; done <= steps; done++) {
                    p.update(done, 2.5, 1e-3, 100, false);
                }
            }
            java.util.List<Integer> logged = bytes.toString(StandardCharsets.UTF_8).lines()
                    .map(l -> LINE.matcher(l)).filter(Matcher::find).map(m -> Integer.parseInt(m.group(1))).toList();
            java.util.List<Integer> expected = new java.util.ArrayList<>();
            for (int done = every; done <= steps; done += every) {
                expected.add(done);
            }
            if (steps % every != 0) {
                expected.add(steps);
            }
            assertEquals(expected, logged, steps + " steps, every " + every);
        }
    }

    @Test
    void aStepThatEndsTheRunEarlyIsPrinted() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream log = new PrintStream(bytes, true, StandardCharsets.UTF_8);
             Progress p = Progress.of("train", 0, 100, 10, log, null)) {
            p.update(7, 2.5, 1e-3, 100, true); // train.time_limit_s ended the run
        }
        assertTrue(bytes.toString(StandardCharsets.UTF_8).startsWith("step 7/100 "), bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void theBarsLineFitsEightyColumnsAndLabelsEachFigure() {
        String ordinary = Progress.line("train q-galore", 12, 30, 3.4567, 2640, Duration.ofSeconds(75), 120);
        assertTrue(ordinary.length() <= Progress.WIDTH, ordinary);
        for (String label : new String[] {"train q-galore", "step 12/30", "loss 3.4567", "tok/s 2640", "eta 0:01:15", "["}) {
            assertTrue(ordinary.contains(label), label + " in " + ordinary);
        }
        String large = Progress.line("finetune qzo with a long task name", 123_456_789, 999_999_999, 12345.6789,
                98_765_432.1, Duration.ofHours(123_456), Progress.WIDTH);
        assertTrue(large.length() <= Progress.WIDTH, large.length() + ": " + large);
        assertTrue(large.contains("step 123456789/999999999") && large.contains("loss 12345.6789"), large);
        String huge = Progress.line("train", 5, 10, 1e300, Double.POSITIVE_INFINITY, Duration.ofSeconds(5), Progress.WIDTH);
        assertTrue(huge.length() <= Progress.WIDTH, huge.length() + ": " + huge);
        assertTrue(Progress.line("train", 5, 10, 3, 100, Duration.ZERO, 40).length() <= 40);
    }

    @Test
    void theBarAsTheLibraryDrawsItOnAWideTerminalFitsEightyColumns() {
        java.util.List<String> drawn = new java.util.concurrent.CopyOnWriteArrayList<>();
        PrintStream log = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        try (Progress p = Progress.of("train q-galore", 0, 999_999_999, 10, log,
                new me.tongfei.progressbar.DelegatingProgressBarConsumer(drawn::add, 200))) {
            p.update(123_456_789, 12345.6789, 1e-3, 98_765_432.1, false);
        }
        assertFalse(drawn.isEmpty());
        for (String line : drawn) {
            String text = line.replace("\r", "").strip();
            assertTrue(text.length() <= Progress.WIDTH, text.length() + ": " + text);
        }
        String last = drawn.get(drawn.size() - 1);
        assertTrue(last.contains("step 123456789/999999999") && last.contains("loss 12345.6789")
                && last.contains("tok/s 98765432") && last.contains("eta "), last);
    }
}
