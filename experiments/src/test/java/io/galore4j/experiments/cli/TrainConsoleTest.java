package io.galore4j.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code train} prints without a terminal (tests have none): a progress line every
 * {@code train.log_every} steps and at the last, while metrics.jsonl keeps its own cadence.
 */
class TrainConsoleTest {

    private static final Pattern PROGRESS = Pattern.compile("^step (\\d+)/(\\d+)  loss ");

    @Test
    void aRunOfSevenStepsLoggingEveryThreePrintsStepsThreeSixAndSeven(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        List<String> a = new ArrayList<>(List.of("train", "--out", out.toString()));
        a.addAll(Cli.tinyModel());
        a.addAll(Cli.sets(List.of("data.path=" + Cli.corpus(dir), "optim.method=adamw", "train.steps=7",
                "train.log_every=3", "train.eval_every=100", "train.batch_size=2", "train.warmup=1",
                "train.eval_batches=1")));
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        PrintStream saved = System.out;
        System.setOut(new PrintStream(stdout, true, StandardCharsets.UTF_8));
        Cli.Result r;
        try {
            r = Cli.run(a.toArray(String[]::new));
        } finally {
            System.setOut(saved);
        }
        assertEquals(0, r.code(), r.err());
        List<Integer> printed = new ArrayList<>();
        for (String line : stdout.toString(StandardCharsets.UTF_8).lines().toList()) {
            Matcher m = PROGRESS.matcher(line);
            if (m.find()) {
                assertEquals("7", m.group(2), line);
                printed.add(Integer.parseInt(m.group(1)));
            }
        }
        assertEquals(List.of(3, 6, 7), printed, stdout.toString(StandardCharsets.UTF_8));
        // metrics.jsonl as before: the first step, every log_every steps, and the last (it evaluates)
        List<Integer> logged = Files.readAllLines(out.resolve("metrics.jsonl")).stream()
                .map(l -> Integer.parseInt(l.replaceAll("^\\{\"step\":(\\d+),.*", "$1"))).toList();
        assertEquals(List.of(1, 3, 6, 7), logged);
    }
}
