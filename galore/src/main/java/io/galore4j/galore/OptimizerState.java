package io.galore4j.galore;

import java.nio.Buffer;

/**
 * How a {@link LayerwiseOptimizer} is saved into and restored from a checkpoint: its tensors
 * (weights in their stored form, encoded moments, bases) travel as named flat buffers, a
 * {@link java.nio.ByteBuffer} (codes), {@link java.nio.ShortBuffer} (bfloat16 scale bits) or
 * {@link java.nio.FloatBuffer} (fp32 values and scales); everything else as a JSON-ready map
 * returned by {@link LayerwiseOptimizer#saveState}.
 */
public final class OptimizerState {

    private OptimizerState() {
    }

    /** Receives the tensors while a state is saved. */
    public interface Sink {
        /**
         * One tensor: the buffer's remaining elements, read in place while the checkpoint is
         * written (before the optimizer runs again), so no copy is made.
         */
        void put(String name, Buffer values);
    }

    /** Hands the saved tensors back. */
    public interface Source {
        /** The tensor called {@code name} as saved, or null if the checkpoint has none by that name. */
        Buffer get(String name);
    }
}
