package io.galore4j.trainer.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

/** {@code train.blas_threads}: an explicit count is applied to ND4J's BLAS; 0 is the BLAS's own default. */
class BlasThreadsTest {

    @Test
    void anExplicitCountReachesTheBlasAndZeroIsTheBlasDefault() {
        try {
            assertEquals(3, BlasThreads.apply(3));
            assertEquals(3, Nd4j.factory().blas().getMaxThreads(), "the BLAS itself reports the count");
            assertEquals(1, BlasThreads.apply(1));
            assertEquals(1, Nd4j.factory().blas().getMaxThreads());
            int auto = BlasThreads.apply(0);
            assertEquals(BlasThreads.blasDefault(), auto);
            assertEquals(auto, Nd4j.factory().blas().getMaxThreads());
        } finally {
            Nd4j.factory().blas().setMaxThreads(BlasThreads.blasDefault());
        }
    }

    @Test
    void aNegativeCountIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> BlasThreads.resolve(-1));
    }
}
