package io.galore4j.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code train} says about the input the user points at: what a directory data.path reads,
 * a file that is not text (refused unless data.allow_binary), a config file with a key given twice.
 */
class DataInputTest {

    /** {@code galore train} of the tiny model for 2 steps with {@code more}; stdout captured too (the trainer prints there). */
    private static Cli.Result train(Path out, ByteArrayOutputStream stdout, String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--out", out.toString()));
        a.addAll(Cli.tinyModel());
        for (String s : new String[] {"optim.method=adamw", "train.steps=2", "train.batch_size=2", "train.warmup=1",
            "train.eval_every=2", "train.eval_batches=1", "data.val_fraction=0.2"}) {
            a.add("--set");
            a.add(s);
        }
        a.addAll(List.of(more));
        PrintStream saved = System.out;
        System.setOut(new PrintStream(stdout, true, StandardCharsets.UTF_8));
        try {
            return Cli.run(a.toArray(String[]::new));
        } finally {
            System.setOut(saved);
        }
    }

    private static void assertOneLineError(Cli.Result r, Path out, String... names) {
        assertEquals(2, r.code(), r.err());
        String err = r.err().strip();
        assertFalse(err.contains("\n"), "one line: " + err);
        for (String n : names) {
            assertTrue(err.contains(n), "names " + n + ": " + err);
        }
        assertFalse(Files.exists(out), "a refused run created " + out);
    }

    @Test
    void aDirectoryIsDescribedAndAFileThatIsNotTextIsRefusedUnlessAllowed(@TempDir Path dir) throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        Files.writeString(data.resolve("a.txt"), "the quick brown fox jumps over the lazy dog. ".repeat(40));
        Files.writeString(data.resolve("b.txt"), "pack my box with five dozen liquor jugs. ".repeat(40));
        Files.createDirectories(data.resolve("nested"));
        Files.writeString(data.resolve("nested/ignored.txt"), "never read");
        byte[] binary = "text, then a NUL:\0 and more".getBytes(StandardCharsets.UTF_8);
        Path bad = Files.write(data.resolve("c.bin"), binary);

        Path out = dir.resolve("run");
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        Cli.Result r = train(out, stdout, "--set", "data.path=" + data);
        assertOneLineError(r, out, "data.path: " + bad + " is not UTF-8 text: a NUL byte at byte offset 17",
                "data.allow_binary");
        String described = stdout.toString(StandardCharsets.UTF_8);
        long total = 1800 + 1640 + binary.length;
        assertTrue(described.contains("galore train: data.path " + data + ": a directory; reads the 3 regular files"
                + " directly inside it, not recursively (1 other entry, subdirectories or special files, skipped), in order"
                + " of file name, concatenated with no separator between files: a.txt, b.txt, c.bin ("
                + String.format("%,d", total) + " bytes)"), described);

        stdout.reset();
        r = train(out, stdout, "--set", "data.path=" + data, "--set", "data.allow_binary=true");
        assertEquals(0, r.code(), r.err());
        assertTrue(stdout.toString(StandardCharsets.UTF_8).contains("corpus of " + String.format("%,d", total) + " bytes"),
                stdout.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aConfigFileWithASectionGivenTwiceIsRefusedNamingItAndTheFile(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("twice.yaml");
        Files.writeString(config, "optim:\n  method: adamw\ntrain:\n  steps: 2\noptim:\n  lr: 0.001\n");
        Path out = dir.resolve("run");
        Cli.Result r = train(out, new ByteArrayOutputStream(), "--config", config.toString(),
                "--set", "data.path=" + Cli.corpus(dir));
        assertOneLineError(r, out, "config file " + config + ": key 'optim' is given twice (line 5)");
    }
}
