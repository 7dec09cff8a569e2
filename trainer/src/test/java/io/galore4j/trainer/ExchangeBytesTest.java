package io.galore4j.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.galore4j.galore.OptimSettings;
import io.galore4j.projection.Projector;
import io.galore4j.projection.ProjectorConfig;
import io.galore4j.projection.RefreshPolicy;
import io.galore4j.projection.Side;
import io.galore4j.trainer.model.LlamaParameters;
import io.galore4j.trainer.model.ModelConfig;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The per-step exchange of data-parallel training, checked against hand arithmetic and a live projector. */
class ExchangeBytesTest {

    // a tiny model: vocab 24, hidden 16, intermediate 40, 2 blocks; rank 4
    private static final long V = 24;
    private static final long H = 16;
    private static final long I = 40;
    private static final long L = 2;
    private static final long R = 4;
    private static final ModelConfig TINY = ModelConfig.standard((int) H, (int) L, 2, (int) I, (int) V, 8);

    private static ExchangeBytes exchange(Object... keyValues) {
        Map<String, Object> optim = new HashMap<>(Map.of("method", "galore", "rank", (int) R, "refresh_gap", 10));
        for (int k = 0; k < keyValues.length; k += 2) {
            optim.put((String) keyValues[k], keyValues[k + 1]);
        }
        return ExchangeBytes.of(OptimSettings.from(optim), LlamaParameters.shapes(TINY));
    }

    /** Bytes of an INT4 r×d basis: two codes per byte, an fp32 scale and zero point per 256 codes, the fp32 first vector. */
    private static long int4(long d) {
        long codes = R * d;
        return (codes + 1) / 2 + 8 * ((codes + 255) / 256) + 4 * d;
    }

    // every parameter: embedding and head V×H, 2L+1 norms of H; per block q,k,v,o H×H, gate and up I×H, down H×I
    private static final long UNPROJECTED = 2 * V * H + (2 * L + 1) * H;
    private static final long FULL = UNPROJECTED + L * (4 * H * H + 3 * I * H);

    @Test
    void leftSideExchangesRTimesNPerMatrixAndFp32BasesOfTheRowSpace() {
        ExchangeBytes x = exchange("side", "left", "refresh", "fixed");
        assertEquals(FULL, x.fullFloats());
        // R = Pᵀ G is r×n: q,k,v,o and gate, up have n = H; down has n = I
        assertEquals(UNPROJECTED + L * (6 * R * H + R * I), x.stepFloats());
        assertEquals(7 * L, x.refreshes().size());
        // the basis spans the m side: H for q,k,v,o and down, I for gate and up; fp32
        long refresh = L * 4 * R * (5 * H + 2 * I);
        assertEquals(refresh, x.refreshBytes());
        assertEquals(refresh / 10.0, x.refreshBytesPerStep(), 1e-9);
        assertTrue(x.refreshExact());
        double perStep = 4.0 * (UNPROJECTED + L * (6 * R * H + R * I)) + refresh / 10.0;
        assertEquals(perStep, x.lowRankBytesPerStep(), 1e-9);
        assertEquals(1 - perStep / (4.0 * FULL), x.saving(), 1e-12);
    }

    @Test
    void rightSideExchangesMTimesRPerMatrixAndInt4BasesOfTheColumnSpace() {
        ExchangeBytes x = exchange("side", "right", "basis_bits", 4, "refresh", "fixed");
        // R = G P is m×r: m = H for q,k,v,o and down, I for gate and up
        assertEquals(UNPROJECTED + L * (5 * H * R + 2 * I * R), x.stepFloats());
        // the basis spans the n side: H for q,k,v,o, gate and up; I for down; INT4
        long refresh = L * (6 * int4(H) + int4(I));
        assertEquals(refresh, x.refreshBytes());
        assertEquals(1 - (4.0 * x.stepFloats() + refresh / 10.0) / (4.0 * FULL), x.saving(), 1e-12);
    }

    @Test
    void theDefaultSideKeepsRAtRankTimesTheLargerDimension() {
        ExchangeBytes x = exchange("basis_bits", 4, "refresh", "fixed");
        assertEquals(UNPROJECTED + L * (4 * R * H + 3 * R * I), x.stepFloats());
        // std: right for m ≥ n (gate, up: basis over n = H, q..o: H), left for m < n (down: basis over m = H)
        assertEquals(L * 7 * int4(H), x.refreshBytes());
    }

    @Test
    void aLayerTheSettingsKeepFullRankExchangesItsFullGradient() {
        Map<String, Object> down = new LinkedHashMap<>();
        down.put("match", ".*down_proj.*");
        down.put("full_rank", true);
        ExchangeBytes x = exchange("side", "left", "layers", List.of(down));
        assertEquals(UNPROJECTED + L * (6 * R * H + H * I), x.stepFloats());
        assertEquals(6 * L, x.refreshes().size());
    }

    @Test
    void growingPoliciesGiveAnUpperBoundAtTheirSmallestGap() {
        ExchangeBytes lazy = exchange("side", "left", "refresh", "lazy");
        assertFalse(lazy.refreshExact());
        assertEquals(lazy.refreshBytes() / 10.0, lazy.refreshBytesPerStep(), 1e-9);
        ExchangeBytes adaptive = exchange("side", "left", "refresh", "adaptive", "min_gap", 5);
        assertFalse(adaptive.refreshExact());
        assertEquals(adaptive.refreshBytes() / 5.0, adaptive.refreshBytesPerStep(), 1e-9);
    }

    @Test
    void theFormulaCountsWhatALiveProjectorProducesAndStores() {
        Nd4j.getRandom().setSeed(7);
        for (long[] shape : new long[][] {{12, 20}, {20, 12}}) {
            for (Side side : List.of(Side.LEFT, Side.RIGHT, Side.STD)) {
                for (int bits : new int[] {32, 4}) {
                    Map<String, long[]> one = Map.of("model.layers.0.self_attn.q_proj.weight", shape);
                    ExchangeBytes.Refresh f = ExchangeBytes.of(OptimSettings.from(Map.of("method", "galore",
                            "rank", (int) R, "side", side.toString(), "basis_bits", bits)), one).refreshes().get(0);
                    ProjectorConfig c = ProjectorConfig.of((int) R).withSide(side);
                    Projector p = new Projector("q", shape[0], shape[1], new ProjectorConfig(c.rank(), c.scale(),
                            side, c.basisMethod(), c.oversampling(), c.powerIterations(), c.seed(), bits),
                            RefreshPolicy.fixed(10));
                    INDArray grad = Nd4j.rand(DataType.FLOAT, shape[0], shape[1]);
                    p.refresh(0, grad);
                    String what = side + " " + shape[0] + "×" + shape[1] + " bits " + bits;
                    assertEquals(p.project(grad).length(), f.projected(), what);
                    assertEquals(p.basisBytes(), f.bytes(), what);
                }
            }
        }
    }
}
