package io.galore4j.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.galore4j.trainer.run.MetricsLine;
import io.galore4j.trainer.run.RunJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkersBenchTest {

    @TempDir Path tmp;

    @Test
    void eachTimedStepIsTheDifferenceOfConsecutiveLines() throws Exception {
        List<String> lines = new ArrayList<>();
        double[] elapsed = {1.0, 1.5, 2.25, 3.0};
        double[] exchange = {0.1, 0.2, 0.45, 0.5};
        long[] bytes = {100, 300, 600, 1000};
        for (int i = 0; i < 4; i++) {
            lines.add(RunJson.MAPPER.writeValueAsString(MetricsLine.trained(i + 1, 3.0, 1e-3, 1.0, 64L * (i + 1), 10, elapsed[i])
                    .withExchange(exchange[i], bytes[i])));
        }
        Path metrics = Files.write(tmp.resolve("metrics.jsonl"), lines);
        // one warm-up step: steps 2, 3 and 4 are timed, each against the line before it
        List<WorkersBench.Step> steps = WorkersBench.timedSteps(metrics, 1);
        assertEquals(3, steps.size());
        assertEquals(new WorkersBench.Step(2, 0.5, 0.1, 200), round(steps.get(0)));
        assertEquals(new WorkersBench.Step(3, 0.75, 0.25, 300), round(steps.get(1)));
        assertEquals(new WorkersBench.Step(4, 0.75, 0.05, 400), round(steps.get(2)));
        assertEquals(2, WorkersBench.timedSteps(metrics, 2).size());
    }

    private static WorkersBench.Step round(WorkersBench.Step s) {
        return new WorkersBench.Step(s.step(), Math.round(s.totalS() * 1e9) / 1e9, Math.round(s.exchangeS() * 1e9) / 1e9,
                s.bytes());
    }

    @Test
    void withoutTheDistributedModuleItEndsWithOneLine() throws Exception {
        Path corpus = Files.writeString(tmp.resolve("corpus.txt"), "the quick brown fox jumps over the lazy dog\n".repeat(200));
        List<String> args = new ArrayList<>(List.of("bench", "--workers", "2"));
        args.addAll(Cli.oneLayerSets(corpus, List.of("optim.rank=8")));
        Cli.Result r = Cli.run(args.toArray(String[]::new));
        assertEquals(2, r.code(), r.err());
        assertEquals("galore bench: error: bench --workers needs the distributed module on the classpath: build with"
                + " mvn -Pdistributed", r.err().strip());
    }
}
