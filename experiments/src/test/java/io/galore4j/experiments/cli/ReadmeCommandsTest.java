package io.galore4j.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Every fenced shell command of README.md runs as written: each {@code bin/galore} command is
 * executed in-process, in README order, with relative paths under a temporary directory and
 * settings appended that make it tiny (a small model on a small corpus, two or four steps); the
 * commands that cannot run in-process must be exactly {@link #NOT_IN_PROCESS}. Every relative
 * link of README.md and docs/*.md must name a file of the repository.
 */
class ReadmeCommandsTest {

    /**
     * The fenced commands this test cannot run in-process: a new one must be added here on purpose.
     * A data-parallel run needs the distributed module, which this module does not depend on; the
     * distributed module's tests run the same command.
     */
    static final Set<String> NOT_IN_PROCESS = Set.of(
            "mvn -B -ntp -Pdistributed test",
            "bin/galore jmh quant -f 1 -wi 2 -i 3 CodecBenchmark",
            "bin/galore train --workers 2 --out runs/micro-dp");

    /** Fenced blocks whose lines are shell commands. */
    private static final Pattern FENCE = Pattern.compile("(?ms)^```(bash|sh|shell)\\n(.*?)^```");
    /** Markdown links and images: the target up to a space, ')' or '#'. */
    private static final Pattern LINK = Pattern.compile("\\]\\(([^)#\\s]*)(#[^)\\s]*)?\\)");

    @TempDir Path tmp;

    @Test
    void everyFencedCommandRunsAsWritten() throws Exception {
        Path root = repositoryRoot();
        List<String> commands = fencedCommands(Files.readString(root.resolve("README.md")));
        Set<String> skipped = new TreeSet<>();
        int ran = 0;
        Path corpus = tmp.resolve("corpus.txt");
        Files.writeString(corpus, ("the quick brown fox jumps over the lazy dog.\n"
                + "η γρήγορη καφέ αλεπού πηδά πάνω από το τεμπέλικο σκυλί.\n").repeat(200), StandardCharsets.UTF_8);
        for (String command : commands) {
            List<String> words = words(command);
            if (!words.get(0).equals("bin/galore") || words.size() > 1 && words.get(1).equals("jmh")
                    || NOT_IN_PROCESS.contains(command)) {
                skipped.add(command);
                continue;
            }
            List<String> args = new ArrayList<>();
            for (String w : words.subList(1, words.size())) {
                args.add(w.matches("(runs|hf)/.*") ? tmp.resolve(w) + (w.endsWith("/") ? "/" : "") : w);
            }
            args.addAll(tiny(args, corpus));
            long start = System.nanoTime();
            run(command, args);
            System.err.printf("ReadmeCommandsTest: %.1f s  %s%n", (System.nanoTime() - start) / 1e9, command);
            expectOutputs(command, args);
            ran++;
        }
        assertEquals(NOT_IN_PROCESS, skipped, "README commands not run in-process");
        assertTrue(ran >= 10, "only " + ran + " bin/galore commands found in README.md");
    }

    @Test
    void everyYamlBlockIsAConfigTheEstimatorAccepts() throws IOException {
        Matcher m = Pattern.compile("(?ms)^```yaml\\n(.*?)^```").matcher(Files.readString(repositoryRoot().resolve("README.md")));
        int blocks = 0;
        while (m.find()) {
            Path config = tmp.resolve("readme-" + ++blocks + ".yaml");
            Files.writeString(config, m.group(1));
            run("yaml block " + blocks, List.of("memory", "--model", config.toString()));
        }
        assertTrue(blocks > 0, "no yaml block in README.md");
    }

    @Test
    void everyRelativeLinkOfTheDocsNamesAFile() throws IOException {
        Path root = repositoryRoot();
        List<Path> pages = new ArrayList<>(List.of(root.resolve("README.md")));
        try (Stream<Path> docs = Files.list(root.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        List<String> broken = new ArrayList<>();
        for (Path page : pages) {
            Matcher m = LINK.matcher(Files.readString(page));
            while (m.find()) {
                String target = m.group(1);
                if (target.matches("[a-z]+:.*")) {
                    continue; // a web address
                }
                Path file = target.isEmpty() ? page : page.getParent().resolve(target).normalize();
                if (!Files.exists(file)) {
                    broken.add(root.relativize(page) + " → " + target);
                } else if (m.group(2) != null && file.toString().endsWith(".md") && Files.exists(file)
                        && !anchors(Files.readString(file)).contains(m.group(2).substring(1))) {
                    broken.add(root.relativize(page) + " → " + target + m.group(2) + " (no such heading)");
                }
            }
        }
        assertTrue(broken.isEmpty(), "links to missing files: " + broken);
    }

    /** The anchors GitHub gives the headings of a Markdown page. */
    static Set<String> anchors(String markdown) {
        Set<String> anchors = new TreeSet<>();
        for (String line : markdown.split("\n")) {
            if (line.matches("#{1,6} .*")) {
                anchors.add(line.replaceFirst("#+ ", "").strip().toLowerCase(java.util.Locale.ROOT)
                        .replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-'));
            }
        }
        return anchors;
    }

    /** The settings appended to a command so that it runs in a few seconds. */
    private List<String> tiny(List<String> args, Path corpus) {
        String command = args.get(0);
        List<String> data = List.of("data.path=" + corpus, "train.batch_size=4", "train.eval_every=2",
                "train.eval_batches=1", "train.log_every=1", "train.warmup=1");
        List<String> model = List.of("model.hidden=32", "model.layers=2", "model.heads=2", "model.intermediate=48",
                "model.seq_len=16", "optim.rank=8");
        List<String> extra = new ArrayList<>();
        switch (command) {
            case "train", "sweep" -> {
                extra.addAll(Cli.sets(data));
                extra.addAll(Cli.sets(model));
                extra.addAll(Cli.sets(List.of("train.steps=" + (args.contains("--resume") ? 4 : 2))));
                if (command.equals("train") && !args.contains("--out") && !args.contains("--resume")) {
                    extra.addAll(List.of("--out", tmp.resolve("runs/default").toString()));
                }
            }
            case "finetune" -> {
                extra.addAll(Cli.sets(data));
                extra.addAll(Cli.sets(List.of("train.steps=2")));
            }
            default -> { }
        }
        return extra;
    }

    private static void run(String command, List<String> args) {
        CommandLine cli = Main.commandLine();
        cli.setOverwrittenOptionsAllowed(true); // the appended tiny settings replace the README's
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args.toArray(String[]::new));
        assertEquals(0, code, command + "\n" + String.join(" ", args) + "\n" + out + err);
    }

    /** The files each kind of command must leave behind. */
    private void expectOutputs(String command, List<String> args) {
        List<Path> expected = new ArrayList<>();
        switch (args.get(0)) {
            case "train", "finetune" -> {
                Path dir = Path.of(option(args, args.contains("--resume") ? "--resume" : "--out"));
                expected.add(dir.resolve("config.yaml"));
                expected.add(dir.resolve("metrics.jsonl"));
                expected.add(dir.resolve("summary.json"));
                expected.add(dir.resolve("model.safetensors"));
                if (args.get(0).equals("train")) {
                    expected.add(dir.resolve("checkpoints/latest"));
                }
            }
            case "export" -> {
                String to = option(args, "--to");
                Path file = to.endsWith("/") ? Path.of(to, "model.safetensors") : Path.of(to);
                expected.add(file);
                expected.add(file.resolveSibling("config.json"));
            }
            case "plot" -> {
                Path dir = args.contains("--out") ? Path.of(option(args, "--out")) : Path.of(args.get(1), "plots");
                expected.add(dir.resolve("loss-step.png"));
            }
            case "sweep" -> {
                Path dir = Path.of(option(args, "--out"));
                expected.add(dir.resolve(SweepCommand.REPORT));
                expected.add(dir.resolve("plots"));
            }
            case "report" -> {
                if (args.contains("--out")) {
                    expected.add(Path.of(option(args, "--out")));
                }
            }
            default -> { }
        }
        for (Path p : expected) {
            assertTrue(Files.exists(p), command + ": expected " + p);
        }
    }

    /** The value after the last {@code name} in {@code args}. */
    private static String option(List<String> args, String name) {
        int i = args.lastIndexOf(name);
        assertTrue(i >= 0 && i + 1 < args.size(), "no " + name + " in " + args);
        return args.get(i + 1);
    }

    /** The commands of the README's shell blocks: one per line, a trailing backslash continuing it, comments dropped. */
    static List<String> fencedCommands(String markdown) {
        List<String> commands = new ArrayList<>();
        Matcher m = FENCE.matcher(markdown);
        while (m.find()) {
            StringBuilder pending = new StringBuilder();
            for (String line : m.group(2).split("\n")) {
                String l = line.strip();
                if (l.startsWith("#") || l.isEmpty() && pending.isEmpty()) {
                    continue;
                }
                if (l.endsWith("\\")) {
                    pending.append(l, 0, l.length() - 1).append(' ');
                    continue;
                }
                pending.append(l);
                commands.add(pending.toString().strip().replaceAll("\\s+", " "));
                pending.setLength(0);
            }
            assertTrue(pending.isEmpty(), "a fenced command ends with a backslash: " + pending);
        }
        return commands;
    }

    /**
     * The shell words of one command: single quotes keep everything, double quotes keep all but
     * the quotes; a pipe, redirection, variable, chain or comment is refused, so every README
     * command is one plain process.
     */
    static List<String> words(String command) {
        List<String> words = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean inWord = false;
        for (int i = 0; i < command.length(); i++) {
            char c = command.charAt(i);
            if (c == '\'' || c == '"') {
                int end = command.indexOf(c, i + 1);
                assertTrue(end > i, "unbalanced quote in: " + command);
                String quoted = command.substring(i + 1, end);
                assertFalse(c == '"' && quoted.matches(".*[$`\\\\].*"), "expansion in double quotes: " + command);
                w.append(quoted);
                inWord = true;
                i = end;
            } else if (Character.isWhitespace(c)) {
                if (inWord) {
                    words.add(w.toString());
                    w.setLength(0);
                    inWord = false;
                }
            } else {
                assertFalse("|&;<>$`#*?[]{}\\".indexOf(c) >= 0 && !(inWord && "{}=,".indexOf(c) >= 0),
                        "shell syntax '" + c + "' outside quotes in: " + command);
                w.append(c);
                inWord = true;
            }
        }
        if (inWord) {
            words.add(w.toString());
        }
        return words;
    }

    private static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !(Files.isRegularFile(dir.resolve("README.md")) && Files.isDirectory(dir.resolve("experiments")))) {
            dir = dir.getParent();
        }
        assertTrue(dir != null, "no repository root above " + Path.of("").toAbsolutePath());
        return dir;
    }

    @Test
    void theCommandParserSplitsLikeTheShell() {
        assertEquals(List.of("bin/galore", "finetune", "--set", "data.line_filter=\\p{IsGreek}", "--prompt", "a b"),
                words("bin/galore finetune --set 'data.line_filter=\\p{IsGreek}' --prompt \"a b\""));
        assertEquals(List.of("bin/galore train --out runs/a", "bin/galore report runs/a"),
                fencedCommands("x\n```bash\n# comment\nbin/galore train \\\n  --out runs/a\n\nbin/galore report runs/a\n```\n"
                        + "```yaml\nnot: a command\n```\n"));
        assertEquals(Set.of("1-modules", "memory-estimate-against-peak-rss", "qzo-for-the-same-time"),
                anchors("# 1. Modules\n## Memory: estimate against peak RSS\ntext\n### `QZO` for the same time\n"));
        for (String bad : List.of("bin/galore train | tee log", "bin/galore train && ls", "X=1; bin/galore train",
                "bin/galore train --out $HOME/r", "bin/galore train > log")) {
            assertThrowsAssertion(() -> words(bad), bad);
        }
    }

    private static void assertThrowsAssertion(Runnable r, String what) {
        try {
            r.run();
        } catch (AssertionError expected) {
            return;
        }
        throw new AssertionError("accepted: " + what);
    }
}
