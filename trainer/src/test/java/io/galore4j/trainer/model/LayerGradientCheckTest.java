package io.galore4j.trainer.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Each layer's backward in isolation, in float64: for L = Σ c ⊙ layer(inputs) with a fixed random
 * c, every input gradient equals the central finite difference of L (all entries, step 1e-5,
 * relative error |a − n| / max(|a| + |n|, 1e-10) ≤ 1e-6).
 */
class LayerGradientCheckTest {

    private static final double STEP = 1e-5;
    private static final double MAX_REL_ERR = 1e-6;
    private final SplittableRandom random = new SplittableRandom(17);

    private INDArray randn(long... shape) {
        INDArray a = Nd4j.create(DataType.DOUBLE, shape, 'c');
        for (long i = 0; i < a.length(); i++) {
            a.putScalar(i, random.nextGaussian());
        }
        return a;
    }

    /** Max relative error between {@code analytic} and the finite differences of {@code loss} in {@code x}. */
    private static double check(INDArray x, INDArray analytic, Supplier<Double> loss) {
        double worst = 0;
        for (int i = 0; i < x.length(); i++) {
            double original = x.getDouble(i);
            x.putScalar(i, original + STEP);
            double plus = loss.get();
            x.putScalar(i, original - STEP);
            double minus = loss.get();
            x.putScalar(i, original);
            double n = (plus - minus) / (2 * STEP);
            double a = analytic.getDouble(i);
            worst = Math.max(worst, Math.abs(a - n) / Math.max(Math.abs(a) + Math.abs(n), 1e-10));
        }
        return worst;
    }

    private static void assertSmall(String what, double relErr) {
        System.out.printf("%s max rel err %.2e%n", what, relErr);
        assertTrue(relErr <= MAX_REL_ERR, what + " max rel err " + relErr);
    }

    @Test
    void rmsNorm() {
        int rows = 5;
        int cols = 8;
        INDArray x = randn(rows, cols);
        INDArray gain = randn(cols);
        INDArray c = randn(rows, cols);
        INDArray y = Nd4j.create(DataType.DOUBLE, rows, cols);
        double[] inv = new double[rows];
        Supplier<Double> loss = () -> {
            RmsNorm.forward(x, gain, 1e-6, y, inv);
            return y.mul(c).sumNumber().doubleValue();
        };
        loss.get();
        INDArray dx = Nd4j.zeros(DataType.DOUBLE, rows, cols);
        INDArray dGain = Nd4j.create(DataType.DOUBLE, cols);
        RmsNorm.backward(c, x, inv, gain, dx, dGain);
        assertSmall("RMSNorm dx", check(x, dx, loss));
        assertSmall("RMSNorm dgain", check(gain, dGain, loss));
    }

    @Test
    void swiGlu() {
        INDArray gate = randn(4, 6).muli(3);
        INDArray up = randn(4, 6);
        INDArray c = randn(4, 6);
        INDArray act = Nd4j.create(DataType.DOUBLE, 4, 6);
        Supplier<Double> loss = () -> {
            SwiGlu.forward(gate, up, act);
            return act.mul(c).sumNumber().doubleValue();
        };
        INDArray dGate = Nd4j.create(DataType.DOUBLE, 4, 6);
        INDArray dUp = Nd4j.create(DataType.DOUBLE, 4, 6);
        SwiGlu.backward(c, gate, up, dGate, dUp);
        assertSmall("SwiGLU dgate", check(gate, dGate, loss));
        assertSmall("SwiGLU dup", check(up, dUp, loss));
    }

    /** RoPE on q and k, causal softmax attention, back to rows: the whole attention core. */
    @Test
    void ropeAndCausalAttention() {
        int batch = 2;
        int heads = 2;
        int d = 4;
        int seq = 5;
        int width = heads * d;
        Rope rope = new Rope(heads, d, seq, 10000.0);
        INDArray qf = randn(batch * seq, width);
        INDArray kf = randn(batch * seq, width);
        INDArray vf = randn(batch * seq, width);
        INDArray c = randn(batch * seq, width);
        INDArray q = Nd4j.create(DataType.DOUBLE, batch * heads, seq, d);
        INDArray k = Nd4j.create(DataType.DOUBLE, batch * heads, seq, d);
        INDArray v = Nd4j.create(DataType.DOUBLE, batch * heads, seq, d);
        INDArray p = Nd4j.create(DataType.DOUBLE, batch * heads, seq, seq);
        INDArray o = Nd4j.create(DataType.DOUBLE, batch * heads, seq, d);
        INDArray of = Nd4j.create(DataType.DOUBLE, batch * seq, width);
        Supplier<Double> loss = () -> {
            rope.rotateToHeads(qf, batch, seq, q);
            rope.rotateToHeads(kf, batch, seq, k);
            rope.copyToHeads(vf, batch, seq, v);
            CausalAttention.forward(q, k, v, p, o);
            rope.copyFromHeads(o, batch, seq, of);
            return of.mul(c).sumNumber().doubleValue();
        };
        loss.get();
        INDArray dO = Nd4j.create(DataType.DOUBLE, batch * heads, seq, d);
        rope.copyToHeads(c, batch, seq, dO);
        INDArray dP = Nd4j.create(DataType.DOUBLE, batch * heads, seq, seq);
        INDArray dQ = Nd4j.create(DataType.DOUBLE, batch * heads, seq, d);
        INDArray dK = Nd4j.create(DataType.DOUBLE, batch * heads, seq, d);
        INDArray dV = Nd4j.create(DataType.DOUBLE, batch * heads, seq, d);
        CausalAttention.backward(dO, q, k, v, p, dP, dQ, dK, dV);
        INDArray dqf = Nd4j.create(DataType.DOUBLE, batch * seq, width);
        INDArray dkf = Nd4j.create(DataType.DOUBLE, batch * seq, width);
        INDArray dvf = Nd4j.create(DataType.DOUBLE, batch * seq, width);
        rope.unrotateFromHeads(dQ, batch, seq, dqf);
        rope.unrotateFromHeads(dK, batch, seq, dkf);
        rope.copyFromHeads(dV, batch, seq, dvf);
        assertSmall("attention dq", check(qf, dqf, loss));
        assertSmall("attention dk", check(kf, dkf, loss));
        assertSmall("attention dv", check(vf, dvf, loss));
    }

    @Test
    void crossEntropy() {
        INDArray logits = randn(6, 7).muli(2);
        int[] targets = {0, 6, 3, 3, 1, 5};
        INDArray grad = logits.dup();
        CrossEntropy.lossAndGradient(grad, targets, true);
        assertSmall("cross-entropy dlogits",
                check(logits, grad, () -> CrossEntropy.lossAndGradient(logits.dup(), targets, false)));
    }

    /** RoPE's rotation keeps every pair's norm and rotates position t by t·θ^(−2i/d) (rotate_half pairs). */
    @Test
    void ropeRotatesHalfSplitPairsByTheLlamaAngles() {
        int d = 8;
        double theta = 10000.0;
        Rope rope = new Rope(1, d, 3, theta);
        INDArray x = randn(3, d);
        INDArray out = Nd4j.create(DataType.DOUBLE, 1, 3, d);
        rope.rotateToHeads(x, 1, 3, out);
        for (int t = 0; t < 3; t++) {
            for (int i = 0; i < d / 2; i++) {
                double angle = t * Math.pow(theta, -2.0 * i / d);
                double x1 = x.getDouble(t, i);
                double x2 = x.getDouble(t, i + d / 2);
                double expected1 = x1 * Math.cos(angle) - x2 * Math.sin(angle);
                double expected2 = x2 * Math.cos(angle) + x1 * Math.sin(angle);
                assertTrue(Math.abs(expected1 - out.getDouble(0, t, i)) < 1e-12);
                assertTrue(Math.abs(expected2 - out.getDouble(0, t, i + d / 2)) < 1e-12);
            }
        }
    }
}
