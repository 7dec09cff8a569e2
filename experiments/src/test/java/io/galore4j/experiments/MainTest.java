package io.galore4j.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The command line's contract: help works, and every user error is one line with exit code 2. */
class MainTest {

    private record Result(int code, String out, String err) {}

    private static Result run(String... args) {
        CommandLine cli = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void helpListsTheTrainCommand() {
        Result r = run("--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("train"), r.out());
        assertEquals(0, run("train", "--help").code());
    }

    @Test
    void unknownCommandsAndOptionsExitWith2() {
        assertEquals(2, run("bogus").code());
        assertEquals(2, run("--bogus").code());
        assertEquals(2, run("train", "--bogus").code());
    }

    @Test
    void badSettingsEndInOneLineNamingTheKeyAndWriteNothing(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        String[][] cases = {
            {"--set", "train.stepz=3"},
            {"--set", "train.steps=0"},
            {"--set", "optim.method=adam"},
            {"--set", "optim.rank=0"},
            {"--set", "model.preset=3b"},
            {"--set", "data.path=" + dir.resolve("missing.txt")},
        };
        String[] keys = {"train.stepz", "train.steps", "optim.method", "optim.rank", "model.preset", "data.path"};
        for (int i = 0; i < cases.length; i++) {
            Result r = run("train", cases[i][0], cases[i][1], "--out", out.toString());
            assertEquals(2, r.code(), String.join(" ", cases[i]) + ": " + r.err());
            String err = r.err().strip();
            assertFalse(err.contains("\n"), "one line: " + err);
            assertTrue(err.contains(keys[i]), "names " + keys[i] + ": " + err);
            assertFalse(Files.exists(out), "nothing written for " + String.join(" ", cases[i]));
        }
    }

    @Test
    void anExistingRunIsNeverOverwritten(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        Files.createDirectories(out);
        Files.writeString(out.resolve("config.yaml"), "precious");
        Result r = run("train", "--set", "train.steps=1", "--out", out.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("already holds a run"), r.err());
        assertEquals("precious", Files.readString(out.resolve("config.yaml")));
    }
}
