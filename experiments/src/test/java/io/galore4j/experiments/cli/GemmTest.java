package io.galore4j.experiments.cli;

import static io.galore4j.experiments.cli.Cli.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.galore4j.experiments.cli.GemmRoutes.Operands;
import io.galore4j.experiments.cli.GemmRoutes.Problem;
import io.galore4j.trainer.model.ModelConfig;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code galore gemm}: every route computes the product it is asked for, bf16 ones to bf16 accuracy. */
class GemmTest {

    private static final Pattern ROW = Pattern.compile(
            "^(\\S+ \\S+|\\d+³)\\s+(.+?)\\s+(\\d*)\\s+([\\d.]+)\\s+([\\d.]+)\\s+([\\d.]+)\\s+(\\d\\.\\d\\de[-+]\\d+)\\b.*$");

    @Test
    void everyRouteComputesEveryProductOfTheModel() {
        Cli.Result r = run("gemm", "--model", "micro", "--batch", "1", "--seq", "24", "--square", "40",
                "--repeats", "1", "--rows", "5");
        assertEquals(0, r.code(), r.err());
        Map<String, Integer> linesPerRoute = new HashMap<>();
        for (String line : r.out().split("\\R")) {
            Matcher m = ROW.matcher(line);
            if (!m.matches()) {
                continue;
            }
            String route = m.group(2);
            double error = Double.parseDouble(m.group(7));
            linesPerRoute.merge(route, 1, Integer::sum);
            if (route.equals("mkl gemm_bf16bf16f32") || route.equals("onednn matmul bf16")) {
                // operands rounded to 8 significant bits, products summed in fp32: about 2⁻⁹ relative
                assertTrue(error > 1e-4 && error < 1e-2, line);
            } else {
                assertTrue(error < 1e-5, line);
            }
        }
        // micro: three weight shapes (256×256, which the 256-token head shares, 688×256 and 256×688),
        // three products each, then the 40³ product
        assertTrue(linesPerRoute.containsKey("mkl sgemm"), r.out());
        assertTrue(linesPerRoute.containsKey("onednn matmul bf16"), r.out());
        for (Map.Entry<String, Integer> e : linesPerRoute.entrySet()) {
            assertEquals(3 * 3 + 1, e.getValue(), e.getKey() + "\n" + r.out());
        }
        assertTrue(r.out().contains("the model's products together"), r.out());
    }

    @Test
    void problemsAreTheForwardAndBothBackwardProductsOfEachWeight() {
        List<Problem> p = GemmCommand.problems(ModelConfig.preset("60m"), 2048, 0);
        // 60m: q/k/v/o and the head 512 wide, gate/up 1376x512, down 512x1376, the head 32000x512
        assertEquals(4 * 3, p.size());
        Problem head = p.stream().filter(x -> x.label().equals("y=x·Wᵀ 32000x512")).findFirst().orElseThrow();
        assertArrayEquals(new int[] {2048, 512, 32000}, new int[] {head.m(), head.k(), head.n()});
        Problem dx = p.stream().filter(x -> x.label().equals("dx=dy·W 1376x512")).findFirst().orElseThrow();
        assertArrayEquals(new int[] {2048, 1376, 512}, new int[] {dx.m(), dx.k(), dx.n()});
        Problem dw = p.stream().filter(x -> x.label().equals("dW=dyᵀ·x 512x1376")).findFirst().orElseThrow();
        assertArrayEquals(new int[] {512, 2048, 1376}, new int[] {dw.m(), dw.k(), dw.n()});
        assertTrue(dw.transA() && !dw.transB() && head.transB() && !dx.transA() && !dx.transB());
        assertEquals(32, p.get(0).count(), "the 512x512 shape: q, k, v, o of 8 layers");
    }

    @Test
    void referenceAndErrorFollowTheStoredLayout() {
        // op(A) = Aᵀ with A stored 3 × 2 (k × m), op(B) = Bᵀ with B stored 2 × 3 (n × k)
        Problem p = new Problem("t", 1, 2, 3, 2, true, true);
        float[] a = {1, 2, 3, 4, 5, 6};
        float[] b = {1, 0, 1, 0, 1, 0};
        try (Operands o = new Operands(p, a, b)) {
            double[][] ref = GemmCommand.reference(o, 2);
            // op(A) = [[1,3,5],[2,4,6]], op(B) = [[1,0],[0,1],[1,0]]
            assertArrayEquals(new double[] {6, 3}, ref[0]);
            assertArrayEquals(new double[] {8, 4}, ref[1]);
            o.c.put(new float[] {6, 3, 8, 4});
            assertEquals(0.0, GemmCommand.relativeError(o, ref));
            o.c.put(new float[] {6, 3, 8, 5});
            assertEquals(1 / Math.sqrt(36 + 9 + 64 + 16), GemmCommand.relativeError(o, ref), 1e-12);
        }
    }

    @Test
    void threadCountComesFromOmpNumThreads() {
        assertEquals(2, GemmCommand.threads(null, 2));
        assertEquals(3, GemmCommand.threads(" 3", 2));
        assertThrows(IllegalArgumentException.class, () -> GemmCommand.threads("0", 2));
        assertThrows(IllegalArgumentException.class, () -> GemmCommand.threads("two", 2));
    }

    @Test
    void badInputEndsWithOneLineAndCodeTwo() {
        Cli.Result r = run("gemm", "--repeats", "0");
        assertEquals(2, r.code());
        assertEquals(1, r.err().strip().split("\\R").length, r.err());
        Cli.Result m = run("gemm", "--model", "nope");
        assertEquals(2, m.code());
        assertTrue(m.err().contains("no preset 'nope'"), m.err());
    }
}
