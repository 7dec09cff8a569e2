package io.galore4j.galore;

import java.nio.FloatBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * How one weight is stored and how an update reaches it: W ← W − η(ΔW + λW) (decoupled weight
 * decay, Loshchilov and Hutter 2019), applied chunk by chunk while the optimizer walks the
 * update.
 */
abstract class WeightStore {

    /** The current value as fp32 (the stored array, or a pooled dequantized copy). */
    abstract INDArray value();

    /**
     * Applies the update of elements [start, start + len): {@code delta[0 .. len)} holds ΔW there.
     * {@code work} (the gradient buffer, absolute index {@code workOff}) may be overwritten at
     * the same elements.
     */
    abstract void applyChunk(int start, int len, float[] delta, double lr, double weightDecay,
            FloatBuffer work, int workOff);

    /** Called once after all chunks of one update. */
    abstract void finishUpdate(FloatBuffer work, int workOff);

    /** Bytes of the values (fp32: 4 per element; INT8: 1). */
    abstract long valueBytes();

    /** Bytes of the per-group scales and zero points (0 for fp32). */
    abstract long scaleBytes();

    /** Number of elements. */
    abstract int length();
}
