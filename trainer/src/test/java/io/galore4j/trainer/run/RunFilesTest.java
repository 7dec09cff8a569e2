package io.galore4j.trainer.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import io.galore4j.projection.SubspaceStats;
import io.galore4j.trainer.data.CorpusFingerprint;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The run files as records: what {@link RunDirectory} writes reads back into the same records
 * (records → file → records), with the field names, order and null conventions the files have
 * always had, and a file with fields a record does not name still reads.
 */
class RunFilesTest {

    @TempDir
    Path dir;

    @Test
    void metricsLinesRoundTripThroughTheFileInTheirFormat() throws Exception {
        List<MetricsLine> written = List.of(
                MetricsLine.trained(1, 5.5, 3.75e-4, 7.0, 2048, 840.5, 2.4),
                MetricsLine.trained(10, 3.4, 3.75e-3, 2.0, 20480, 2287.9, 8.9).withEvaluation(3.25),
                MetricsLine.skipped(11, "non-finite loss or gradient", Double.NaN),
                MetricsLine.skipped(12, "non-finite loss or gradient", 4.5),
                MetricsLine.skipped(13, "non-finite loss", null),
                MetricsLine.zerothOrder(14, 2.5, 1e-3, -0.25, -0.2, 3, 4096, 100.0, 9.5));
        try (RunDirectory run = RunDirectory.create(dir.resolve("run"), false)) {
            for (MetricsLine l : written) {
                run.logMetrics(l);
            }
        }
        List<String> lines = Files.readAllLines(dir.resolve("run").resolve(RunDirectory.METRICS), StandardCharsets.UTF_8);
        assertEquals(List.of(
                "{\"step\":1,\"loss\":5.5,\"lr\":3.75E-4,\"grad_norm\":7.0,\"tokens\":2048,\"tokens_per_s\":840.5,\"elapsed_s\":2.4}",
                "{\"step\":10,\"loss\":3.4,\"lr\":0.00375,\"grad_norm\":2.0,\"tokens\":20480,\"tokens_per_s\":2287.9,"
                        + "\"elapsed_s\":8.9,\"val_loss\":3.25,\"val_ppl\":" + Math.exp(3.25) + "}",
                "{\"step\":11,\"skipped\":\"non-finite loss or gradient\",\"loss\":null}",
                "{\"step\":12,\"skipped\":\"non-finite loss or gradient\",\"loss\":4.5}",
                "{\"step\":13,\"skipped\":\"non-finite loss\"}",
                "{\"step\":14,\"loss\":2.5,\"lr\":0.001,\"derivative\":-0.25,\"estimate\":-0.2,\"floored\":3,"
                        + "\"tokens\":4096,\"tokens_per_s\":100.0,\"elapsed_s\":9.5}"), lines);
        for (int i = 0; i < lines.size(); i++) {
            MetricsLine read = RunJson.MAPPER.readValue(lines.get(i), MetricsLine.class);
            MetricsLine expected = written.get(i);
            if (i == 2) { // a non-finite loss is written as null and reads back as none
                assertNull(read.loss());
                assertTrue(Double.isNaN(read.lossOrNaN()));
                expected = MetricsLine.skipped(11, "non-finite loss or gradient", null);
            }
            assertEquals(expected, read, lines.get(i));
        }
    }

    @Test
    void subspaceLinesAreWhatSubspaceStatsAlwaysWrote() throws Exception {
        SubspaceStats first = new SubspaceStats(0, "model.layers.0.mlp.up_proj.weight", 8, Double.NaN, Double.NaN, 0.75,
                new double[] {3, 2, 1}, 200, 1.5);
        SubspaceStats later = new SubspaceStats(200, "model.layers.0.mlp.up_proj.weight", 8, 0.99, 0.9, 0.8,
                new double[] {4, 3}, 400, 2.5);
        try (RunDirectory run = RunDirectory.create(dir.resolve("run"), false)) {
            run.logSubspace(List.of(first, later));
        }
        List<String> lines = Files.readAllLines(dir.resolve("run").resolve(RunDirectory.SUBSPACE), StandardCharsets.UTF_8);
        for (int i = 0; i < 2; i++) {
            SubspaceStats s = i == 0 ? first : later;
            // the same text as the map SubspaceStats makes of itself
            assertEquals(RunJson.MAPPER.writeValueAsString(s.toMap()), lines.get(i));
            SubspaceLine read = RunJson.MAPPER.readValue(lines.get(i), SubspaceLine.class);
            SubspaceLine expected = SubspaceLine.of(s);
            assertEquals(List.of(expected.step(), expected.layer(), expected.rank(), expected.energy(), expected.gap(),
                    expected.basisMs()), List.of(read.step(), read.layer(), read.rank(), read.energy(), read.gap(),
                    read.basisMs()));
            assertEquals(expected.cosine(), read.cosine());
            assertEquals(expected.overlap(), read.overlap());
            assertArrayEquals(expected.singularValues(), read.singularValues());
        }
        assertTrue(lines.get(0).contains("\"cosine\":null,\"overlap\":null"), lines.get(0));
    }

    @Test
    void summariesRoundTripAndAFinetuneSummaryReadsAsASummary() throws Exception {
        Summary.Memory memory = new Summary.Memory("q-galore", 3295488L, 16, 128, false, 3794432L, 3342336L,
                1934336L, 945216L, 945216L, 530432L, 2827776L, null, 202129408L, 105064240L, 268435456L, 96780288L,
                202129408L, 1.8076982832284627, 0.0, 589948848L);
        Summary train = new Summary("q-galore", 30L, 61440L, 30.5, "mkl_rt", 1, "fp32", 2639.9, 2.0938752E7, 55.3, Double.NaN,
                Double.NaN, 28L, 586813440L, memory, 3295488L, new CorpusFingerprint(21012848, "845e"),
                memory, Map.of("int8", Map.of("parameters", 4)),
                20L, null, null, null);
        FinetuneSummary finetune = new FinetuneSummary("qzo", "run/a", "int4", 5, 320, 2.5, 2.0, 160.0, 3.5, 3.4,
                Math.exp(3.4), 1000L, 3000L, 700L, new FinetuneSummary.Memory(10, 20, 30, 40, 100), 3.45, 4);
        for (RunSummary s : List.of(train, finetune)) {
            Path run = dir.resolve(s.getClass().getSimpleName());
            try (RunDirectory d = RunDirectory.create(run, false)) {
                d.writeSummary(s);
            }
            assertEquals(s, RunJson.MAPPER.readValue(run.resolve(RunDirectory.SUMMARY).toFile(), s.getClass()));
        }
        String text = Files.readString(dir.resolve("Summary").resolve(RunDirectory.SUMMARY));
        assertTrue(text.startsWith("{\n  \"method\" : \"q-galore\",\n  \"steps\" : 30,\n  \"tokens\" : 61440,\n"), text);
        assertTrue(text.contains("\"val_loss\" : \"NaN\"") && text.contains("\"resumed_from_step\" : 20")
                && !text.contains("source") && text.contains("\"corpus\" : {\n    \"bytes\" : 21012848,"), text);
        assertTrue(text.contains("\"memory\" : {\n    \"method\" : \"q-galore\",\n    \"params\" : 3295488,\n"
                + "    \"batch\" : 16,\n    \"seq\" : 128,\n    \"checkpoint_activations\" : false,\n"
                + "    \"weights\" : 3794432,\n    \"weight_pool\" : 3342336,\n    \"gradients\" : 1934336,\n"
                + "    \"optimizer_m\" : 945216,\n    \"optimizer_v\" : 945216,\n    \"projection\" : 530432,\n"
                + "    \"refresh\" : 2827776,\n    \"activations\" : 202129408,\n    \"data\" : 105064240,\n"
                + "    \"runtime\" : 268435456,\n    \"activations_checkpointed\" : 96780288,\n"
                + "    \"activations_full\" : 202129408,\n    \"persistent_bytes_per_param\" : 1.8076982832284627,\n"
                + "    \"accumulation_bytes_per_param\" : 0.0,\n    \"total_bytes\" : 589948848\n  }"), text);

        Summary asRead = RunJson.MAPPER.readValue(dir.resolve("FinetuneSummary").resolve(RunDirectory.SUMMARY).toFile(),
                Summary.class);
        assertEquals("qzo", asRead.method());
        assertEquals(3.4, asRead.valLoss());
        assertEquals(3.5, asRead.valLossBefore());
        assertEquals(new Summary.Memory(null, null, null, null, null, 10L, null, null, null, null, null, null, null, 40L,
                null, null, null, null, null, null, 100L), asRead.memory());
        assertNull(asRead.svdCount());
    }

    @Test
    void anOlderOrNewerSummaryReadsWithWhatItHas() throws Exception {
        Summary s = RunJson.MAPPER.readValue("{\"method\":\"adamw\",\"val_loss\":3.5,\"added_later\":{\"x\":1}}",
                Summary.class);
        assertEquals("adamw", s.method());
        assertEquals(3.5, s.valLoss());
        assertNull(s.memory());

        // summary.json's memory as runs wrote it before it took galore memory's form
        Summary old = RunJson.MAPPER.readValue("{\"memory\":{\"weights\":7136768,\"optimizer\":1890432,"
                + "\"projection\":530432,\"gradients\":1934336,\"activations\":202129408,\"total\":213621376}}",
                Summary.class);
        assertEquals(7136768L, old.memory().components().get("weights"));
        assertEquals(213621376L, old.memory().totalBytes());
        assertNull(old.memory().optimizerM());
    }

    @Test
    void theTrainerStateRoundTripsAndABadOneIsNamed() {
        Map<String, Object> config = new java.util.TreeMap<>(Map.of("optim.method", "q-galore", "train.seed", "42"));
        TrainerState state = new TrainerState(61440L, null, 3.25, List.of(7L, 123456789012L), 30.5, 2.5, config,
                new CorpusFingerprint(10, "ab"));
        Map<String, Object> map = state.toMap();
        assertEquals(List.of("tokens", "prev_norm", "val_loss", "sampler", "elapsed_s", "eval_s", "config", "corpus"),
                List.copyOf(map.keySet()));
        assertTrue(map.containsKey("prev_norm") && map.get("prev_norm") == null, map.toString());
        Map<String, Object> file = RunJson.MAPPER.convertValue(
                Map.of("format", 1, "step", 30, "optimizer", Map.of("step", 30)), new TypeReference<>() { });
        file = new LinkedHashMap<>(file);
        file.putAll(map);
        TrainerState read = TrainerState.from(RunJson.MAPPER.convertValue(file, new TypeReference<>() { }));
        assertEquals(state, read);

        Map<String, Object> noSampler = new LinkedHashMap<>(map);
        noSampler.put("sampler", List.of(1));
        assertEquals("sampler must be two integers",
                assertThrows(IllegalArgumentException.class, () -> TrainerState.from(noSampler)).getMessage());
        Map<String, Object> noTokens = new LinkedHashMap<>(map);
        noTokens.remove("tokens");
        assertEquals("tokens must be a number, got null",
                assertThrows(IllegalArgumentException.class, () -> TrainerState.from(noTokens)).getMessage());
        Map<String, Object> textTokens = new LinkedHashMap<>(map);
        textTokens.put("eval_s", List.of("x"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TrainerState.from(textTokens)).getMessage()
                .startsWith("eval_s"));
    }
}
