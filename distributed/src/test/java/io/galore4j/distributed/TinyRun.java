package io.galore4j.distributed;

import com.fasterxml.jackson.databind.JsonNode;
import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.config.RunConfig;
import io.galore4j.trainer.run.RunDirectory;
import io.galore4j.trainer.run.RunJson;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A data-parallel run of a one-layer model on a small corpus, small enough for the test suite:
 * its settings, and the run started as {@code galore train --workers N} starts it (the run
 * directory created, config.yaml written, then the launcher).
 */
final class TinyRun {

    private TinyRun() {
    }

    /** A corpus of 400 short lines in {@code dir}. */
    static Path corpus(Path dir) throws IOException {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 400; i++) {
            text.append("line ").append(i).append(": the quick brown fox jumps over the lazy dog ")
                    .append(i * 7919 % 1000).append('\n');
        }
        return Files.writeString(dir.resolve("corpus.txt"), text);
    }

    /** The settings of a two-worker run of {@code steps} steps, then {@code more} assignments. */
    static ConfigTree settings(Path corpus, int steps, String... more) {
        List<String> sets = new ArrayList<>(List.of("data.path=" + corpus, "model.hidden=32", "model.layers=1",
                "model.heads=2", "model.intermediate=48", "model.seq_len=16", "train.batch_size=4",
                "train.eval_batches=2", "train.steps=" + steps, "train.warmup=2", "train.eval_every=6",
                "train.log_every=1", "train.ckpt_every=6", "train.check_every=3", "train.blas_threads=1",
                "train.workers=2", "optim.method=q-galore", "optim.rank=8", "optim.refresh_gap=5"));
        sets.addAll(List.of(more));
        ConfigTree t = ConfigTree.defaults();
        for (String s : sets) {
            t = t.set(s);
        }
        return t;
    }

    /** Runs {@code tree} in the new run directory {@code dir}; returns what the driver printed. */
    static String launch(ConfigTree tree, Path dir) throws IOException {
        ConfigTree resolved = RunConfig.resolve(tree).tree();
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        try (RunDirectory run = RunDirectory.create(dir, false)) {
            run.writeConfig(resolved.toYaml());
            new SparkDataParallelLauncher().launch(resolved, dir, new PrintStream(printed, true, StandardCharsets.UTF_8));
        } finally {
            System.out.print(printed.toString(StandardCharsets.UTF_8));
        }
        return printed.toString(StandardCharsets.UTF_8);
    }

    /** Per metrics line of the run in {@code dir}: its step, loss, gradient norm and validation loss. */
    static List<String> losses(Path dir) throws IOException {
        List<String> lines = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve(RunDirectory.METRICS))) {
            JsonNode n = RunJson.MAPPER.readTree(line);
            lines.add(n.get("step").asLong() + " " + n.get("loss").asDouble() + " " + n.path("grad_norm").asDouble()
                    + " " + n.path("val_loss").asDouble(Double.NaN));
        }
        return lines;
    }
}
