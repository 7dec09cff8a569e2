package io.galore4j.projection;

import static io.galore4j.projection.TestMatrices.gaussian;
import static io.galore4j.projection.TestMatrices.orthonormalityError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.galore4j.quant.QuantizedTensor;
import java.nio.FloatBuffer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The INT4 basis (Q-GaLore): how far from orthonormal rounding makes it.
 *
 * <p>Bound: each decoded element is within s_g/2 of the fp32 one (round to nearest, s_g the step
 * of its group), so the decoded singular vector p̂_i = p_i + e_i has ‖e_i‖ ≤ ε_i := sqrt(Σ_j (s_g(j)/2)²)
 * over its elements. With ‖p_i‖ = 1 and p_iᵀp_j = δ_ij, |p̂_iᵀp̂_j − δ_ij| ≤ ε_i + ε_j + ε_i ε_j.
 * The test checks the measured error against that bound computed from the stored scales, and
 * against 0.06, the statistical size: a unit vector in R^d has 256-element groups spanning about
 * ±3/√d, so s ≈ 0.4/√d and the RMS rounding error per vector is ≈ 0.4/√12 ≈ 0.12, giving diagonal
 * deviations ≈ ‖e‖² ≈ 0.014 and off-diagonal ones ≈ 0.17·√(1/d) each (max over r² pairs ≈ 0.03
 * at d = 520; measured 0.035 here, against a worst-case rounding bound of 0.45).
 */
class Int4BasisTest {

    @Test
    void int4BasisDeviatesFromOrthonormalWithinTheRoundingBound() {
        int m = 300;
        int n = 520;
        int r = 16;
        INDArray g = gaussian(m, n, 17);
        Projector exact32 = new Projector("w", m, n, ProjectorConfig.of(r).withSide(Side.RIGHT), RefreshPolicy.fixed(10));
        Projector exact4 = new Projector("w", m, n, ProjectorConfig.of(r).withSide(Side.RIGHT).withBasisBits(4),
                RefreshPolicy.fixed(10));
        exact32.refresh(0, g);
        exact4.refresh(0, g);
        INDArray p32 = exact32.basisTransposed();
        INDArray p4 = exact4.basisTransposed();

        QuantizedTensor codes = exact4.storeForTest().codes();
        FloatBuffer scales = codes.scales();
        double[] eps = new double[r];
        double maxElementError = 0;
        boolean withinHalfStep = true;
        for (int i = 0; i < r; i++) {
            double bound = 0;
            for (int j = 0; j < n; j++) {
                int idx = i * n + j;
                double step = scales.get(idx / codes.groupSize());
                bound += step * step / 4;
                double err = Math.abs(p4.getDouble(i, j) - p32.getDouble(i, j));
                maxElementError = Math.max(maxElementError, err);
                withinHalfStep &= err <= step / 2 * (1 + 1e-5) + 1e-7;
            }
            eps[i] = Math.sqrt(bound);
        }
        assertTrue(withinHalfStep, "an element was rounded by more than half its group's step");
        assertTrue(maxElementError > 0, "the INT4 basis should differ from the fp32 one");

        double maxEps = java.util.Arrays.stream(eps).max().orElseThrow();
        double deviation = orthonormalityError(p4);
        System.out.printf("INT4 basis %d×%d: max |P̂ᵀP̂ − I| = %.4f, rounding bound %.4f (ε_max %.4f), fp32 %.2e%n",
                n, r, deviation, 2 * maxEps + maxEps * maxEps, maxEps, orthonormalityError(p32));
        assertTrue(deviation <= 2 * maxEps + maxEps * maxEps, "deviation " + deviation + " above the rounding bound");
        assertTrue(deviation <= 0.06, "deviation " + deviation);
        assertTrue(orthonormalityError(p32) <= 1e-5);
        // INT4 is 4 bits per element plus two fp32 numbers per 256 elements, and the fp32 first vector
        assertEquals(r * n / 2 + 8L * ((r * n + 255) / 256) + 4L * n, exact4.basisBytes());
    }

    @Test
    void int4BasisStillCapturesTheSubspace() {
        INDArray g = TestMatrices.withSpectrum(200, 400, TestMatrices.powerLaw(100, 1.0), 4);
        Projector a = new Projector("w", 200, 400, ProjectorConfig.of(20), RefreshPolicy.fixed(10));
        Projector b = new Projector("w", 200, 400, ProjectorConfig.of(20).withBasisBits(4), RefreshPolicy.fixed(10));
        a.refresh(0, g);
        b.refresh(0, g);
        double overlap = SubspaceMeasures.overlap(a.basisTransposed(), b.basisTransposed());
        assertTrue(overlap >= 0.97 && overlap <= 1.05, "overlap " + overlap);
    }
}
