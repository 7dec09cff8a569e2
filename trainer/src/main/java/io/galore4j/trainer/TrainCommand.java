package io.galore4j.trainer;

import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.run.RunDirectory;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code galore train}: pretrains a model; with no arguments, micro with Q-GaLore on the default corpus. */
@Command(
        name = "train",
        mixinStandardHelpOptions = true,
        description = {
            "Pretrain a LLaMA-style model.",
            "With no arguments: the micro model on the default corpus with Q-GaLore.",
            "Settings come from the embedded defaults, then --config, then each --set in order."
        })
public final class TrainCommand implements Callable<Integer> {

    @Option(names = "--config", paramLabel = "FILE", description = "YAML file with model/data/train/optim settings")
    Path config;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "override one setting, e.g. --set train.steps=100 (repeatable)")
    List<String> sets = new ArrayList<>();

    @Option(names = "--out", paramLabel = "DIR", description = "run directory (default: runs/<timestamp>-<method>)")
    Path out;

    @Option(names = "--force", description = "replace the run already in --out")
    boolean force;

    @Override
    public Integer call() throws Exception {
        ConfigTree tree = ConfigTree.defaults();
        if (config != null) {
            tree = tree.merge(config);
        }
        for (String s : sets) {
            tree = tree.set(s);
        }
        TrainJob job = TrainJob.resolve(tree, System.out);
        Path dir = out != null ? out : defaultRunDir(job.method());
        try (RunDirectory run = RunDirectory.create(dir, force)) {
            System.out.println("galore train: run directory " + run.path());
            job.run(run, System.out);
        }
        return 0;
    }

    private static Path defaultRunDir(String method) {
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        return Path.of("runs", stamp + "-" + method);
    }
}
