package io.galore4j.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.galore4j.trainer.TrainJob;
import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.data.Dataset;
import io.galore4j.trainer.plan.MemoryPlan;
import io.galore4j.trainer.plan.PlanEntry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code galore plan} and {@code train --budget}. */
class PlanCommandTest {

    @TempDir Path dir;

    /** A small model (hidden 64, one block) on a small corpus, as plan arguments. */
    private List<String> small() throws Exception {
        return Cli.sets(List.of("data.path=" + Cli.corpus(dir), "model.hidden=64", "model.layers=1", "model.heads=2",
                "model.intermediate=96", "model.seq_len=16"));
    }

    @Test
    void everyPrintedSetLineIsAcceptedByTrain() throws Exception {
        List<String> args = new ArrayList<>(List.of("plan", "--model", "micro", "--budget", "1GiB", "--batch", "4", "--top", "0"));
        args.addAll(small());
        Cli.Result r = Cli.run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("order: " + PlanEntry.RULE), r.out());
        List<String> lines = r.out().lines().map(String::strip).filter(l -> l.startsWith("--set ")).toList();
        assertTrue(lines.size() > 20, r.out());
        Dataset[] text = new Dataset[1];
        for (String line : lines) {
            List<String> sets = new ArrayList<>();
            String[] words = line.split(" ");
            for (int i = 0; i < words.length; i += 2) {
                assertEquals("--set", words[i], line);
                sets.add(words[i + 1]);
            }
            // zero steps: train resolves the settings and builds the model and the optimizer, which refuse what they cannot run
            TrainJob job = TrainJob.resolve(ConfigTree.defaults().with(null, sets), null,
                    v -> text[0] != null ? text[0] : (text[0] = Dataset.load(v, "train", null)));
            assertTrue(job.memoryEstimate().totalBytes() <= 1L << 30, line);
            job.start(null);
        }
        assertTrue(lines.stream().anyMatch(l -> l.contains("optim.method=fira")), "fira is planned");
    }

    @Test
    void aBudgetNothingFitsIsOneLineWithTheSmallestEstimateAndExitTwo() {
        Cli.Result r = Cli.run("plan", "--model", "micro", "--budget", "256MiB");
        assertEquals(2, r.code(), r.out());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().matches("galore plan: error: nothing fits in 256\\.00 MiB: the smallest configuration \\(.*\\)"
                + " needs an estimated [0-9.]+ MiB\\R"), r.err());
        Cli.Result bad = Cli.run("plan", "--model", "micro", "--budget", "16XB");
        assertEquals(2, bad.code());
        assertEquals("galore plan: error: --budget: '16XB': unknown unit 'xb' (KiB, MiB, GiB, TiB or K, M, G, T are powers"
                + " of 1024; KB, MB, GB, TB of 1000)", bad.err().strip());
    }

    @Test
    void trainWithABudgetTrainsThePlansFirstConfigurationAndRecordsIt() throws Exception {
        Path out = dir.resolve("run");
        List<String> args = new ArrayList<>(List.of("train", "--budget", "1GiB", "--out", out.toString(),
                "--set", "train.steps=1", "--set", "train.eval_batches=1", "--set", "optim.rank=8"));
        args.addAll(small());
        Cli.Result r = Cli.run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        List<String> given = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            if (args.get(i).equals("--set")) {
                given.add(args.get(i + 1));
            }
        }
        ConfigTree base = ConfigTree.defaults().with(null, given);
        PlanEntry first = MemoryPlan.search(base, 1L << 30, null, List.of(), FixedKeys.ofSets(given)).first();
        assertTrue(first.sets().stream().noneMatch(s -> s.startsWith("optim.rank")), "a fixed key is not planned");
        ConfigTree recorded = ConfigTree.of(out.resolve("config.yaml"));
        assertEquals("1GiB", recorded.get("train.budget"));
        for (String s : first.sets()) {
            String key = s.substring(0, s.indexOf('='));
            assertEquals(s.substring(s.indexOf('=') + 1), String.valueOf(recorded.get(key)), key);
        }
        assertEquals(8, ((Number) recorded.get("optim.rank")).intValue());
    }

    @Test
    void trainWithABudgetNothingFitsStopsBeforeTheRunDirectory() throws Exception {
        Path out = dir.resolve("none");
        Cli.Result r = Cli.run("train", "--budget", "100MiB", "--out", out.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("galore train: error: nothing fits in 100.00 MiB: the smallest configuration"), r.err());
        assertFalse(Files.exists(out));
        assertEquals(Set.of("optim.rank", "train.steps"), FixedKeys.ofSets(List.of("optim.rank=8", "train.steps=1")));
    }
}
