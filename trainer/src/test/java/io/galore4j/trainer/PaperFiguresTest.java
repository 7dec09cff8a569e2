package io.galore4j.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.galore4j.galore.MemoryAccount;
import io.galore4j.galore.OptimSettings;
import io.galore4j.trainer.model.LlamaParameters;
import io.galore4j.trainer.model.ModelConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The papers' figures are compared with estimates priced as the papers price them. */
class PaperFiguresTest {

    @Test
    void fullRankBf16IsSixBytesPerParameter() {
        for (String preset : List.of("60m", "130m", "350m", "1b")) {
            long params = ModelConfig.preset(preset).parameterCount();
            long[] e = PaperFigures.estimate(preset, 128, PaperFigures.FULL);
            assertEquals(2 * params, e[0], preset + " weights");
            assertEquals(4 * params, e[1], preset + " Adam's two bf16 moments");
        }
    }

    @Test
    void galoreBf16FollowsThePapersPerMatrixFormula() {
        // GaLore Table 1: mn + mr + 2nr elements per projected m×n matrix (m the smaller side), plus
        // weights and two moments of every parameter that is not projected; 2 bytes each
        ModelConfig c = ModelConfig.preset("60m");
        int r = 128;
        long expected = 0;
        for (Map.Entry<String, long[]> e : LlamaParameters.shapes(c).entrySet()) {
            long[] s = e.getValue();
            long n = s.length == 2 ? s[0] * s[1] : s[0];
            boolean projected = s.length == 2 && !e.getKey().equals(LlamaParameters.EMBED_TOKENS)
                    && !e.getKey().equals(LlamaParameters.LM_HEAD);
            if (projected) {
                long small = Math.min(s[0], s[1]);
                long large = Math.max(s[0], s[1]);
                expected += 2 * (small * large + small * r + 2 * large * r);
            } else {
                expected += 2 * 3 * n;
            }
        }
        long[] e = PaperFigures.estimate("60m", r, PaperFigures.GALORE);
        assertEquals(expected, e[0] + e[1]);
    }

    @Test
    void qGaloreIsThePersistentBytesOfTheOptimizerAsStored() {
        Map<String, long[]> shapes = LlamaParameters.shapes(ModelConfig.preset("130m"));
        MemoryAccount a = MemoryAccount.estimate(OptimSettings.from(Map.of("method", "q-galore", "rank", 256,
                "weights_scope", "all")), shapes, false);
        long[] e = PaperFigures.estimate("130m", 256, PaperFigures.Q_GALORE);
        assertEquals(a.persistent(), e[0] + e[1]);
    }

    @Test
    void everyPublishedFigureHasAnEstimate() {
        List<PaperFigures.Row> rows = PaperFigures.compare();
        assertEquals(PaperFigures.PUBLISHED.size(), rows.size());
        for (PaperFigures.Row row : rows) {
            if (row.published().gigabytes() == 0) { // printed as 0.0G: below 0.05 GB
                assertTrue(row.estimateBytes() > 0 && row.estimateGigabytes() < 0.05, row.toString());
                continue;
            }
            assertTrue(row.estimateBytes() > 0 && row.ratio() > 0.5 && row.ratio() < 2, row.toString());
        }
    }

    @Test
    void apolloStatesAreTheLowRankMomentsInBf16BesideTheFullRankOnesOfTheOtherParameters() {
        // APOLLO at rank 256 on 7B: two BF16 moments of r×(larger side) per projected matrix, and
        // Adam's two BF16 moments of every parameter that is not projected (embedding, head, norms)
        int r = 256;
        long projectedOnly = 0;
        long expected = 0;
        for (Map.Entry<String, long[]> e : LlamaParameters.shapes(ModelConfig.preset("7b")).entrySet()) {
            long[] s = e.getValue();
            long n = s.length == 2 ? s[0] * s[1] : s[0];
            boolean projected = s.length == 2 && !e.getKey().equals(LlamaParameters.EMBED_TOKENS)
                    && !e.getKey().equals(LlamaParameters.LM_HEAD);
            expected += projected ? 2 * 2 * r * Math.max(s[0], s[1]) : 2 * 2 * n;
            projectedOnly += projected ? 2 * 2 * r * Math.max(s[0], s[1]) : 0;
        }
        assertEquals(expected, PaperFigures.estimate("7b", r, PaperFigures.APOLLO)[1]);
        assertEquals(projectedOnly, PaperFigures.estimate("7b", r, PaperFigures.APOLLO, true)[1], "the APOLLO table's count");
        long adam8 = PaperFigures.estimate("7b", 1024, PaperFigures.ADAM8)[1];
        assertEquals(adam8, PaperFigures.estimate("7b", 1024, PaperFigures.ADAM8, true)[1], "projects nothing: all states");
    }
}
