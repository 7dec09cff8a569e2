package io.galore4j.experiments.cli;

import static io.galore4j.experiments.cli.Cli.run;
import static io.galore4j.experiments.cli.UserErrors.assertOneLine;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM and SIGINT stop a run after the step under way: a checkpoint of that step, one line on
 * stderr saying where it stopped and how to resume, exit code 143 or 130; resumed, the run ends
 * with the losses and the model of a run that was never stopped, to the bit. The signals come at
 * random moments after the first step.
 */
class StopSignalTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int STEPS = 16;
    private static final Pattern STOPPED = Pattern.compile(
            "galore (train|finetune): stopped at step (\\d+) \\((SIGTERM|SIGINT)\\); checkpoint written to (\\S+); "
                    + "resume with: galore train --resume (\\S+)");

    @TempDir static Path dir;
    static Path corpus;

    @BeforeAll
    static void corpus() throws IOException {
        corpus = Cli.corpus(dir);
    }

    private static List<String> sets(String... more) {
        return Cli.oneLayerSets(corpus, List.of("train.warmup=2", "train.eval_every=8", "train.log_every=1", "train.ckpt_every=0"), more);
    }

    private static List<String> args(List<String> head, List<String> sets) {
        List<String> a = new ArrayList<>(head);
        a.addAll(sets);
        return a;
    }

    /** loss by step, as logged (each step once). */
    private static Map<Integer, String> losses(Path run) throws IOException {
        Map<Integer, String> m = new TreeMap<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            JsonNode n = JSON.readTree(line);
            String before = m.put(n.get("step").asInt(), n.get("loss").asText());
            assertEquals(null, before, "step " + n.get("step") + " logged twice in " + run);
        }
        return m;
    }

    /**
     * Sends {@code signal} to a child run once it has logged a random step in [1, {@code latest}]
     * (plus a random delay of up to 20 ms); checks the exit code and the one line; returns the
     * step it stopped at.
     */
    private static int stopAtRandom(ChildJvm child, Path run, String signal, int latest, SplittableRandom random)
            throws Exception {
        int target = 1 + random.nextInt(latest);
        assertTrue(child.awaitStep(run, target, 60) >= target, "the run reached step " + target + ": " + child.stderr());
        Thread.sleep(random.nextInt(20));
        if (signal.equals("TERM")) {
            child.process.destroy(); // SIGTERM
        } else {
            assertEquals(0, new ProcessBuilder("kill", "-INT", String.valueOf(child.process.pid())).start().waitFor());
        }
        assertEquals(signal.equals("TERM") ? 143 : 130, child.exitCode(60), child.stderr());
        String err = child.stderr();
        assertOneLine(err, "(SIG" + signal + ")", "resume with: galore train --resume " + run);
        Matcher m = STOPPED.matcher(err.strip());
        assertTrue(m.matches(), err);
        int step = Integer.parseInt(m.group(2));
        assertTrue(step >= target && step < STEPS, "stopped at step " + step + " after step " + target);
        assertEquals(run.resolve("checkpoints").resolve(String.format("step-%08d", step)).toString(), m.group(4));
        assertEquals(String.format("step-%08d", step), Files.readString(run.resolve("checkpoints/latest")).strip());
        assertFalse(Files.exists(run.resolve("summary.json")), "not finished");
        assertTrue(child.stdout().contains("galore: SIG" + signal + ": stopping after the step under way"),
                child.stdout());
        return step;
    }

    @Test
    void aTrainingRunStoppedBySignalsResumesToTheLossesAndModelOfAnUninterruptedRunBitForBit() throws Exception {
        List<String> s = sets("optim.method=q-galore", "optim.rank=8", "optim.refresh_gap=4", "train.steps=" + STEPS);
        Path straight = dir.resolve("straight");
        Cli.Result r = run(args(List.of("train", "--out", straight.toString()), s).toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        Map<Integer, String> expected = losses(straight);
        byte[] model = Files.readAllBytes(straight.resolve("model.safetensors"));

        SplittableRandom random = new SplittableRandom();
        String[] signals = {"TERM", "INT", "TERM"};
        for (int i = 0; i < signals.length; i++) {
            Path stopped = dir.resolve("stopped-" + i);
            try (ChildJvm child = ChildJvm.galore(dir.resolve("logs"), "train-" + i,
                    args(List.of("train", "--out", stopped.toString()), s))) {
                stopAtRandom(child, stopped, signals[i], STEPS / 2, random);
            }
            Cli.Result resumed = run("train", "--resume", stopped.toString());
            assertEquals(0, resumed.code(), resumed.err());
            assertEquals(expected, losses(stopped), "the losses of every step, signal " + i);
            assertArrayEquals(model, Files.readAllBytes(stopped.resolve("model.safetensors")), "the final model");
        }
    }

    @Test
    void aSweepStoppedBySigtermLetsItsRunStopWithACheckpoint() throws Exception {
        Path sweep = dir.resolve("sweep");
        List<String> command = args(List.of("sweep", "--out", sweep.toString(), "--grid", "optim.method=adamw"),
                sets("train.steps=" + STEPS));
        Path run = sweep.resolve("1_method=adamw");
        try (ChildJvm parent = ChildJvm.galore(dir.resolve("logs"), "sweep", command)) {
            int target = 1 + new SplittableRandom().nextInt(STEPS / 2);
            assertTrue(parent.awaitStep(run, target, 60) >= target, parent.stderr());
            parent.process.destroy(); // SIGTERM to the sweep alone: it passes it on and waits for its run
            assertEquals(143, parent.exitCode(60), parent.stderr());
            // the run's own line, on the stderr it shares with the sweep
            assertOneLine(parent.stderr(), "galore train: stopped at step ", "resume with: galore train --resume " + run);
        }
        assertTrue(Files.isRegularFile(run.resolve("checkpoints/latest")));
        Cli.Result resumed = run("train", "--resume", run.toString()); // as the same sweep command would
        assertEquals(0, resumed.code(), resumed.err());
        assertEquals(STEPS, losses(run).size(), "every step logged once");
    }

    @Test
    void aSecondSignalDuringALongStepStopsAtOnceWithoutACheckpoint() throws Exception {
        Path run = dir.resolve("long-steps");
        // a first step of several seconds (4 micro-batches of 8 × 256 tokens, hidden 512, one thread):
        // both signals come while it is under way
        List<String> s = args(List.of("train", "--out", run.toString()), List.of("--set", "data.path=" + corpus,
                "--set", "optim.method=adamw", "--set", "model.hidden=512", "--set", "model.layers=2",
                "--set", "model.heads=8", "--set", "model.intermediate=1376", "--set", "model.seq_len=256",
                "--set", "train.batch_size=8", "--set", "train.grad_accum=4", "--set", "train.eval_batches=1",
                "--set", "train.steps=1000", "--set", "train.ckpt_every=0", "--set", "train.blas_threads=1"));
        try (ChildJvm child = ChildJvm.galore(dir.resolve("logs"), "long-steps", s)) {
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (!Files.exists(run.resolve("config.yaml"))) { // written as the run starts its loop
                assertTrue(child.process.isAlive() && System.nanoTime() < deadline, child.stderr());
                Thread.sleep(5);
            }
            Thread.sleep(1000);
            child.process.destroy();
            Thread.sleep(1200); // more than a second later: not the same request delivered twice
            long second = System.nanoTime();
            child.process.destroy();
            assertEquals(143, child.exitCode(10), child.stderr());
            double seconds = (System.nanoTime() - second) / 1e9;
            assertOneLine(child.stderr(), "galore: SIGTERM again: stopping at once, without a checkpoint");
            assertTrue(child.stdout().contains("galore: SIGTERM: stopping after the step under way"), child.stdout());
            assertTrue(seconds < 5, "ended " + seconds + " s after the second signal");
        }
        assertFalse(Files.exists(run.resolve("checkpoints/latest")), "no checkpoint was written");
    }

    @Test
    void fineTunesStopToo() throws Exception {
        Path base = dir.resolve("base");
        Cli.Result b = run(args(List.of("train", "--out", base.toString()), sets("optim.rank=8", "train.steps=2")).toArray(String[]::new));
        assertEquals(0, b.code(), b.err());
        List<String> s = sets("train.steps=" + STEPS);
        SplittableRandom random = new SplittableRandom();

        // AdamW: the trainer's loop, resumed with train --resume
        Path straight = dir.resolve("adamw-straight");
        Cli.Result r = run(args(List.of("finetune", "--method", "adamw", "--from", base.toString(), "--out",
                straight.toString()), s).toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        Path adamw = dir.resolve("adamw");
        try (ChildJvm child = ChildJvm.galore(dir.resolve("logs"), "adamw", args(List.of("finetune", "--method", "adamw",
                "--from", base.toString(), "--out", adamw.toString()), s))) {
            stopAtRandom(child, adamw, "TERM", STEPS / 2, random);
        }
        Cli.Result resumed = run("train", "--resume", adamw.toString());
        assertEquals(0, resumed.code(), resumed.err());
        assertEquals(losses(straight), losses(adamw));
        assertArrayEquals(Files.readAllBytes(straight.resolve("model.safetensors")),
                Files.readAllBytes(adamw.resolve("model.safetensors")));

        // QZO: no optimizer state to resume from; the model so far is saved
        Path qzo = dir.resolve("qzo");
        try (ChildJvm child = ChildJvm.galore(dir.resolve("logs"), "qzo", args(List.of("finetune", "--method", "qzo",
                "--from", base.toString(), "--out", qzo.toString()), sets("train.steps=400")))) {
            int target = 1 + random.nextInt(5);
            assertTrue(child.awaitStep(qzo, target, 60) >= target, child.stderr());
            child.process.destroy();
            assertEquals(143, child.exitCode(60), child.stderr());
            assertOneLine(child.stderr(), "galore finetune: stopped at step ", " of 400 (SIGTERM); the model so far is "
                    + "written to " + qzo.resolve("model.safetensors"), "run it again");
        }
        assertTrue(Files.size(qzo.resolve("model.safetensors")) > 0);
        assertFalse(Files.exists(qzo.resolve("summary.json")));
        Cli.Result sample = run("sample", "--run", qzo.toString(), "--prompt", "the", "--tokens", "4", "--seed", "1");
        assertEquals(0, sample.code(), sample.err());
    }
}
