package io.galore4j.trainer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.galore4j.quant.Bf16;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The bf16 weight products (train.compute: bf16, docs/design.md §5) against float64 products of
 * the same fp32 inputs: every element within the bound of rounding both operands to bf16 and
 * accumulating in fp32, and above fp32's own error somewhere (the operands really were rounded).
 */
class Bf16ProductsTest {

    /** hidden 16, intermediate 24, vocab 11; N = 2 × 6 rows. */
    private static final ModelConfig C = TinyModels.TINY;
    private static final int N = 12;
    /** Unit roundoff of bf16 (8 significant bits, nearest even) and of fp32. */
    private static final double U16 = Math.pow(2, -9);
    private static final double U32 = Math.pow(2, -24);

    @Test
    void forwardAndBothGradientsAreBf16ProductsAccumulatedInFp32() throws InterruptedException {
        OneDnn.stream();
        System.gc(); // the engine must outlive a collection: the stream does not own it
        Thread.sleep(50);
        Linear linear = new Linear(new Bf16Products(C, N));
        SplittableRandom r = new SplittableRandom(7);
        int out = C.intermediate();
        int in = C.hidden();
        INDArray x = gaussian(r, N, in);
        INDArray w = gaussian(r, out, in);
        INDArray dy = gaussian(r, N, out);
        double[][] xd = x.toDoubleMatrix();
        double[][] wd = w.toDoubleMatrix();
        double[][] dyd = dy.toDoubleMatrix();

        INDArray y = gaussian(r, N, out);
        double[][] y0 = y.toDoubleMatrix();
        linear.forward(x, w, y, true);
        INDArray dx = Nd4j.create(DataType.FLOAT, N, in);
        INDArray dw = Nd4j.create(DataType.FLOAT, out, in);
        linear.backward(dy, w, x, dx, false, dw);

        double worst = 0;
        worst = Math.max(worst, check("y += x Wᵀ", y, y0, xd, transpose(wd)));
        worst = Math.max(worst, check("dx = dy W", dx, null, dyd, wd));
        worst = Math.max(worst, check("dW = dyᵀ x", dw, null, transpose(dyd), xd));
        assertTrue(worst > 1e3 * U32, "some error is above fp32 rounding: " + worst);
    }

    @Test
    void operandsAreRoundedToNearestEvenAsTheFormulaSays() {
        Linear linear = new Linear(new Bf16Products(C, N));
        int h = C.hidden();
        SplittableRandom r = new SplittableRandom(13);
        float[] v = new float[N * h];
        for (int i = 0; i < v.length; i++) {
            int kept = (r.nextInt() & 0x3FFF_0000) | 0x3000_0000; // a normal binary32's upper half
            int dropped = switch (i % 4) { // exactly half (a tie), just below, just above, anything
                case 0 -> 0x8000;
                case 1 -> 0x7FFF;
                case 2 -> 0x8001;
                default -> r.nextInt(0x1_0000);
            };
            v[i] = Float.intBitsToFloat((r.nextBoolean() ? 0x8000_0000 : 0) | kept | dropped);
        }
        INDArray x = Nd4j.create(v, new long[] {N, h}, 'c');
        INDArray y = Nd4j.create(DataType.FLOAT, N, h);
        linear.forward(x, Nd4j.eye(h).castTo(DataType.FLOAT), y, false); // y = bf16(x) · I, exact in fp32
        float[] got = y.data().asFloat();
        for (int i = 0; i < v.length; i++) {
            assertEquals(Bf16.toFloat(Bf16.round(v[i])), got[i], 0.0f, "element " + i + " of " + v[i]);
        }
    }

    @Test
    void aModelComputingInBf16FollowsTheFp32OneAndCountsItsBuffers() {
        DenseWeights w = TinyModels.weights(C, DataType.FLOAT, 3, 0.2);
        int[][] batch = TinyModels.batch(C, 2, 6, 5);
        GradientCollector g32 = new GradientCollector();
        GradientCollector g16 = new GradientCollector();
        double l32 = new LlamaModel(C, w).forwardBackward(batch, g32);
        LlamaModel bf16 = new LlamaModel(C, w, Compute.BF16);
        double l16 = bf16.forwardBackward(batch, g16);
        assertEquals(l32, l16, 1e-2 * l32, "loss");
        assertTrue(l32 != l16, "the bf16 model rounds");
        for (String name : LlamaParameters.shapes(C).keySet()) {
            double diff = g16.gradient(name).sub(g32.gradient(name)).norm2Number().doubleValue();
            double norm = g32.gradient(name).norm2Number().doubleValue();
            assertTrue(diff <= 0.05 * norm, name + ": |Δgrad| " + diff + " vs |grad| " + norm);
        }
        for (boolean checkpointed : new boolean[] {false, true}) {
            bf16.setCheckpointActivations(checkpointed);
            bf16.forwardBackward(batch, new GradientCollector());
            ActivationMemory fp32 = ActivationMemory.estimate(C, 2, 6, checkpointed, DataType.FLOAT);
            ActivationMemory live = bf16.workspaceMemory();
            assertEquals(ActivationMemory.estimate(C, 2, 6, checkpointed, DataType.FLOAT, Compute.BF16), live);
            // the operand buffers hold the largest input or output gradient (N × vocab) and the
            // largest weight or input (N × intermediate), 2 bytes each, plus a scratchpad
            long operands = 2L * N * Math.max(C.vocab(), C.intermediate()) + 2L * N * C.intermediate();
            long extra = live.activationBytes() - fp32.activationBytes();
            assertTrue(extra >= operands, "bf16 buffers " + extra + " ≥ " + operands);
            assertEquals(fp32.gradientBytes(), live.gradientBytes());
        }
    }

    @Test
    void computeResolvesAutoByTheCpuAndRefusesOtherValues() {
        assertEquals(Compute.FP32, Compute.resolve("auto", () -> false));
        assertEquals(Compute.BF16, Compute.resolve("auto", () -> true));
        assertEquals(Compute.FP32, Compute.resolve("fp32", () -> true));
        assertEquals(Compute.BF16, Compute.resolve("bf16", () -> false));
        assertThrows(IllegalArgumentException.class, () -> Compute.resolve("fp16", () -> true));
        assertThrows(IllegalArgumentException.class, () -> new LlamaModel(C,
                DenseWeights.initialize(C, DataType.DOUBLE, 1), Compute.BF16).loss(TinyModels.batch(C, 1, 6, 1)));
    }

    /**
     * Checks c = c0 + a·b elementwise against the float64 product within the bf16 bound
     * (2u₁₆ + u₁₆² + k·u₃₂)·Σ|a||b| + u₃₂·|c|, and returns the largest relative error.
     */
    private static double check(String what, INDArray c, double[][] c0, double[][] a, double[][] b) {
        double[][] got = c.toDoubleMatrix();
        int k = b.length;
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < b[0].length; j++) {
                double exact = c0 == null ? 0 : c0[i][j];
                double abs = c0 == null ? 0 : Math.abs(c0[i][j]);
                for (int t = 0; t < k; t++) {
                    exact += a[i][t] * b[t][j];
                    abs += Math.abs(a[i][t] * b[t][j]);
                }
                double bound = (2 * U16 + U16 * U16 + (k + 2) * U32) * abs + U32 * Math.abs(exact);
                double err = Math.abs(got[i][j] - exact);
                assertTrue(err <= bound, what + " [" + i + "," + j + "]: error " + err + " > bound " + bound);
                worst = Math.max(worst, err / abs);
            }
        }
        return worst;
    }

    private static INDArray gaussian(SplittableRandom r, int rows, int cols) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return Nd4j.create(v, new long[] {rows, cols}, 'c');
    }

    private static double[][] transpose(double[][] m) {
        double[][] t = new double[m[0].length][m.length];
        for (int i = 0; i < m.length; i++) {
            for (int j = 0; j < m[0].length; j++) {
                t[j][i] = m[i][j];
            }
        }
        return t;
    }
}
