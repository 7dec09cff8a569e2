package io.galore4j.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.galore4j.experiments.cli.Main;
import io.galore4j.trainer.config.ConfigTree;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code galore train} with the distributed module on the class path: a single-process run loads
 * none of Spark's classes nor this module's, and {@code --workers 2} runs the workers, writes the
 * run's config.yaml with train.workers=2 and resumes with another --workers.
 */
class TrainCommandTest {

    @TempDir
    Path tmp;

    /** The tiny run's settings as --set options (two-worker settings without train.workers). */
    private static List<String> sets(Path corpus, int steps) {
        List<String> args = new ArrayList<>();
        ConfigTree tree = TinyRun.settings(corpus, steps);
        for (String key : List.of("data.path", "model.hidden", "model.layers", "model.heads", "model.intermediate",
                "model.seq_len", "train.batch_size", "train.eval_batches", "train.steps", "train.warmup",
                "train.eval_every", "train.ckpt_every", "train.blas_threads", "optim.method", "optim.rank")) {
            args.add("--set");
            args.add(key + "=" + tree.get(key));
        }
        return args;
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aSingleProcessRunLoadsNoSparkClass() throws Exception {
        Path corpus = TinyRun.corpus(tmp);
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "-verbose:class", Main.class.getName(), "train"));
        command.addAll(sets(corpus, 2));
        command.addAll(List.of("--out", tmp.resolve("single").toString()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(100, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("done: 2 steps"), out);
        assertTrue(out.contains(Main.class.getName()), "the class-loading log is missing: " + out);
        assertFalse(out.contains("org.apache.spark."), "a Spark class was loaded");
        assertFalse(out.contains("io.galore4j.distributed."), "a class of the distributed module was loaded");
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void workersRunFromTheCommandLineAndResumeWithAnotherCount() throws Exception {
        Path corpus = TinyRun.corpus(tmp);
        Path run = tmp.resolve("dp");
        List<String> args = new ArrayList<>(List.of("train", "--workers", "2", "--master", "local[2]"));
        args.addAll(sets(corpus, 6));
        args.addAll(List.of("--out", run.toString()));
        String printed = galore(0, args);
        assertTrue(printed.contains("galore train: 2 workers on local[2]") && printed.contains("done: 6 steps"), printed);
        ConfigTree config = ConfigTree.of(run.resolve("config.yaml"));
        assertEquals(2, config.get("train.workers"));
        assertEquals("local[2]", config.get("train.master"));

        printed = galore(0, List.of("train", "--resume", run.toString(), "--workers", "3", "--master", "local[3]",
                "--set", "train.steps=8"));
        assertTrue(printed.contains("galore train: 3 workers on local[3]") && printed.contains("done: 8 steps"), printed);
        assertEquals(3, ConfigTree.of(run.resolve("config.yaml")).get("train.workers"));
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aMasterSparkCannotStartOnIsOneLineAndExitCode2() throws Exception {
        Path corpus = TinyRun.corpus(tmp);
        List<String> args = new ArrayList<>(List.of("train", "--workers", "2", "--master", "bogus://127.0.0.1:1"));
        args.addAll(sets(corpus, 4));
        args.addAll(List.of("--out", tmp.resolve("bad").toString()));
        String printed = galore(2, args);
        List<String> errors = printed.lines().filter(l -> l.startsWith("galore train: error: ")).toList();
        assertEquals(List.of("galore train: error: data-parallel run: Spark did not start on bogus://127.0.0.1:1: "
                + "Could not parse Master URL: 'bogus://127.0.0.1:1'"), errors, printed);
        assertTrue(Files.isRegularFile(tmp.resolve("bad/config.yaml")));
    }

    /** Runs the command line with {@code args}, requires exit code {@code code}; returns what it printed. */
    private static String galore(int code, List<String> args) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = System.out;
        PrintStream err = System.err;
        PrintStream both = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        System.setOut(both);
        System.setErr(both);
        int exit;
        try {
            exit = Main.commandLine().execute(args.toArray(String[]::new));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        String printed = bytes.toString(StandardCharsets.UTF_8);
        out.print(printed);
        assertEquals(code, exit, printed);
        return printed;
    }
}
