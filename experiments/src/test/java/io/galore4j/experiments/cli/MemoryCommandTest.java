package io.galore4j.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.galore4j.trainer.MemoryEstimate;
import io.galore4j.trainer.config.ConfigTree;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The memory table of {@code galore memory} and the check train, bench and sweep run before they start. */
class MemoryCommandTest {

    private static final long GIB = 1L << 30;

    /** The estimate of {@code preset} trained with {@code method}, after the assignments {@code sets}. */
    private static MemoryEstimate estimate(String preset, String method, int batch, int seq, String... sets)
            throws Exception {
        ConfigTree t = ConfigTree.defaults().with(null, List.of("model.preset=" + preset, "optim.method=" + method));
        return MemoryEstimate.of(t.with(null, List.of(sets)), batch, seq);
    }

    @Test
    void theTableShowsAccumulatedGradientsWhenARunKeepsThem() throws Exception {
        MemoryEstimate kept = estimate("micro", "flash-adamw", 16, 128, "train.grad_accum=2");
        assertTrue(MemoryCommand.table(List.of(kept)).contains("  + accumulated gradients"));
    }

    @Test
    void aRunOverTheAvailableMemoryIsRefusedWithTheEstimate() throws Exception {
        MemoryEstimate a = estimate("7b", "adamw", 1, 256);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MemoryCheck.refuseOver(a, 16 * GIB));
        assertTrue(e.getMessage().startsWith(String.format("this run needs an estimated %.1f GiB (adamw, batch 1 × seq 256)"
                + " but the machine has 16.0 GiB available", a.totalBytes() / (double) GIB)), e.getMessage());
        MemoryCheck.refuseOver(estimate("7b", "q-galore", 1, 256), 16 * GIB); // fits: no exception
    }

    // micro (models.yaml): vocab 256, hidden 256, intermediate 688, 4 blocks; galore: rank 64, side std,
    // fp32 basis, fixed refresh every 200 steps, on q, k, v, o, gate, up, down
    private static final long V = 256;
    private static final long H = 256;
    private static final long I = 688;
    private static final long L = 4;
    private static final long R = 64;
    private static final long FULL = 2 * V * H + (2 * L + 1) * H + L * (4 * H * H + 3 * I * H);
    // std: R is r × max(m, n): r×H for q, k, v, o; r×I for gate, up (I×H) and down (H×I)
    private static final long LOW = 2 * V * H + (2 * L + 1) * H + L * (4 * R * H + 3 * R * I);
    // a refresh sums the full gradient and broadcasts a candidate: an 18-float header, max(r, 8)
    // singular values and the basis, r vectors over the smaller dimension, H, in fp32
    private static final long REFRESH = 4 * (L * (4 * H * H + 3 * I * H) + L * 7 * (18 + R + R * H));

    @Test
    void exchangePrintsFullAndLowRankTrafficAndTheSavingForMicro() {
        Cli.Result r = Cli.run("memory", "--model", "micro", "--method", "galore", "--exchange");
        assertEquals(0, r.code(), r.err());
        String out = r.out();
        assertTrue(out.contains(String.format("%-34s%16s", "full gradients, floats", String.format("%,d", FULL))), out);
        assertTrue(out.contains(String.format("%-34s%16s", "full gradients", MemoryCommand.fine(4 * FULL))), out);
        assertTrue(out.contains(String.format("%-34s%16s", "low-rank gradients, floats", String.format("%,d", LOW))), out);
        assertTrue(out.contains(String.format("%-34s%16s", "refresh, every layer once", MemoryCommand.fine(REFRESH))), out);
        assertTrue(out.contains(String.format("%-34s%16s", "refresh per step, amortized", MemoryCommand.fine(REFRESH / 200.0))),
                out);
        double perStep = 4.0 * LOW + REFRESH / 200.0;
        assertTrue(out.contains(String.format("%-34s%16s", "saving vs full gradients",
                String.format("%.2f%%", 100 * (1 - perStep / (4.0 * FULL))))), out);
        assertFalse(out.contains("≤"), "fixed refresh is exact:\n" + out);
        Cli.Result q = Cli.run("memory", "--model", "micro", "--method", "q-galore", "--exchange");
        assertTrue(q.out().contains(String.format("%-34s%16s", "low-rank + refresh per step", "≤ " + MemoryCommand.fine(
                4.0 * LOW + 4 * (L * (4 * H * H + 3 * I * H) + L * 7 * (18 + R + ((R * H + 1) / 2 + 2) / 3
                        + 2 * ((R * H + 255) / 256) + H)) / 200.0))), q.out());
        assertFalse(Cli.run("memory", "--model", "micro", "--method", "galore").out().contains("exchange"));
        Cli.Result bad = Cli.run("memory", "--papers", "--exchange");
        assertEquals(2, bad.code());
        assertEquals(1, bad.err().strip().lines().count(), bad.err());
        assertTrue(bad.err().contains("--exchange"), bad.err());
    }

    @Test
    void jsonHasTheExchangeOnlyWhenAskedAndIsOtherwiseUnchanged() throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        Cli.Result plain = Cli.run("memory", "--model", "micro", "--method", "galore", "--json");
        Cli.Result with = Cli.run("memory", "--model", "micro", "--method", "galore", "--json", "--exchange");
        assertEquals(0, with.code(), with.err());
        JsonNode a = mapper.readTree(plain.out());
        ObjectNode b = (ObjectNode) mapper.readTree(with.out());
        assertFalse(a.has("exchange"));
        JsonNode x = b.remove("exchange");
        assertEquals(a, b);
        assertEquals(FULL, x.get("full_floats_per_step").asLong());
        assertEquals(4 * FULL, x.get("full_bytes_per_step").asLong());
        assertEquals(LOW, x.get("low_rank_floats_per_step").asLong());
        assertEquals(REFRESH, x.get("refresh_bytes_all_layers").asLong());
        assertEquals(REFRESH / 200.0, x.get("refresh_bytes_per_step").asDouble(), 1e-9);
        assertEquals(1 - (4.0 * LOW + REFRESH / 200.0) / (4.0 * FULL), x.get("saving").asDouble(), 1e-12);
        JsonNode all = mapper.readTree(Cli.run("memory", "--model", "micro", "--method", "all", "--json", "--exchange").out());
        for (JsonNode m : all) {
            assertTrue(m.has("exchange"), m.get("method").asText());
        }
    }
}
