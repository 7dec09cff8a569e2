package io.galore4j.experiments.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/** Runs the command line in-process, capturing what it prints, for the tests. */
final class Cli {

    record Result(int code, String out, String err) {}

    private Cli() {
    }

    /** A small English corpus in {@code dir} (18,000 bytes), for runs that need some text. */
    static Path corpus(Path dir) throws java.io.IOException {
        Path corpus = dir.resolve("corpus.txt");
        Files.writeString(corpus, "the quick brown fox jumps over the lazy dog. ".repeat(400));
        return corpus;
    }

    /** The --set arguments of a tiny model (hidden 32, 2 layers, 2 heads, intermediate 48, seq 16). */
    static List<String> tinyModel() {
        return List.of("--set", "model.hidden=32", "--set", "model.layers=2", "--set", "model.heads=2",
                "--set", "model.intermediate=48", "--set", "model.seq_len=16");
    }

    /** {@code command} with {@code before}, then the tiny model's settings, then {@code after}. */
    static String[] withTinyModel(List<String> before, String... after) {
        List<String> args = new ArrayList<>(before);
        args.addAll(tinyModel());
        args.addAll(List.of(after));
        return args.toArray(String[]::new);
    }

    /**
     * One model layer of hidden 32 on {@code corpus}: the settings the process tests share
     * (each test adds its own after them).
     */
    static List<String> oneLayerModel(Path corpus) {
        return List.of("data.path=" + corpus, "model.hidden=32", "model.layers=1", "model.heads=2",
                "model.intermediate=48", "model.seq_len=16", "train.batch_size=4", "train.eval_batches=1");
    }

    /** The one-layer model on {@code corpus}, then {@code extras}, then {@code more}, each after a {@code --set}. */
    static List<String> oneLayerSets(Path corpus, List<String> extras, String... more) {
        List<String> settings = new ArrayList<>(oneLayerModel(corpus));
        settings.addAll(extras);
        return sets(settings, more);
    }

    /** {@code settings}, then {@code more}, each after a {@code --set}. */
    static List<String> sets(List<String> settings, String... more) {
        List<String> a = new ArrayList<>();
        for (List<String> part : List.of(settings, List.of(more))) {
            for (String s : part) {
                a.add("--set");
                a.add(s);
            }
        }
        return a;
    }

    static Result run(String... args) {
        CommandLine cli = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        return new Result(code, out.toString(), err.toString());
    }
}
