package io.galore4j.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.galore4j.trainer.MemoryEstimate;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code galore memory} on a run's own config.yaml prints the account that run's summary.json
 * reports under {@code memory}: the same components, bytes per parameter and total, the run's
 * from its live optimizer and model, the command's from the configuration alone.
 */
class MemoryAgreementTest {

    @ParameterizedTest
    @ValueSource(strings = {"q-galore", "flash-adamw", "adamw8bit"})
    void theMemoryCommandPrintsWhatTheRunReports(String method, @TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        List<String> train = new ArrayList<>(List.of("train", "--out", out.toString(),
                "--set", "data.path=" + Cli.corpus(dir), "--set", "optim.method=" + method));
        Cli.Result r = Cli.run(Cli.withTinyModel(train, "--set", "optim.rank=8", "--set", "train.steps=2",
                "--set", "train.batch_size=4", "--set", "train.grad_accum=2", "--set", "train.eval_every=2",
                "--set", "train.eval_batches=1", "--set", "train.blas_threads=1"));
        assertEquals(0, r.code(), r.err());
        ObjectMapper json = new ObjectMapper();
        JsonNode run = json.readTree(out.resolve("summary.json").toFile()).get("memory");

        Cli.Result m = Cli.run("memory", "--model", out.resolve("config.yaml").toString(), "--method", method, "--json");
        assertEquals(0, m.code(), m.err());
        JsonNode command = json.readTree(m.out());

        for (String c : MemoryEstimate.COMPONENTS) {
            assertEquals(command.get(c).asLong(), run.get(c).asLong(), c);
        }
        assertTrue(run.get("gradients").asLong() > 0 && run.get("activations").asLong() > 0);
        assertEquals(command.get("persistent_bytes_per_param").asDouble(), run.get("persistent_bytes_per_param").asDouble());
        assertEquals(command.get("total_bytes").asLong(), run.get("total_bytes").asLong());
    }
}
