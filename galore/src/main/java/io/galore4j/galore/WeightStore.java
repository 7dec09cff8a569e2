package io.galore4j.galore;

import io.galore4j.quant.Staging;
import java.nio.Buffer;
import java.nio.FloatBuffer;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * How one weight is stored and how an update reaches it: W ← W − η(ΔW + λW) (decoupled weight
 * decay, Loshchilov and Hutter 2019), applied chunk by chunk while the optimizer walks the
 * update.
 */
abstract class WeightStore {
    private static final Staging.Slot<float[]> PIECE = Staging.floats();

    /** The current value as fp32 (the stored array, or a pooled dequantized copy). */
    abstract INDArray value();

    /**
     * Applies the update of elements [start, start + len): {@code delta[0 .. len)} holds ΔW there.
     * {@code work} (the gradient buffer, absolute index {@code workOff}) may be overwritten at
     * the same elements. Any length is accepted (a whole-tensor state codec hands over the whole
     * tensor at once): the range is walked in pieces of {@link Chunks#SIZE}, a multiple of the
     * INT8 group size, so every piece starts on a group when {@code start} does.
     */
    final void applyChunk(int start, int len, float[] delta, double lr, double weightDecay,
            FloatBuffer work, int workOff) {
        float[] c = PIECE.get(Chunks.SIZE); // per thread: the optimizer may apply chunks of one update in parallel
        float eta = (float) lr;
        float decay = (float) (lr * weightDecay);
        for (int s = 0; s < len; s += Chunks.SIZE) {
            int n = Math.min(Chunks.SIZE, len - s);
            read(start + s, n, c);
            if (s == 0) { // the usual case, one piece: both arrays at offset 0, which C2 vectorizes
                for (int i = 0; i < n; i++) {
                    c[i] = c[i] - eta * delta[i] - decay * c[i];
                }
            } else {
                for (int i = 0; i < n; i++) {
                    c[i] = c[i] - eta * delta[s + i] - decay * c[i];
                }
            }
            write(start + s, n, c, work, workOff);
        }
    }

    /** Reads the current values of elements [start, start + n) into {@code dst[0 .. n)}. */
    abstract void read(int start, int n, float[] dst);

    /** Stores the new values {@code src[0 .. n)} of elements [start, start + n) (or stages them in {@code work}). */
    abstract void write(int start, int n, float[] src, FloatBuffer work, int workOff);

    /** Called once after all chunks of one update. */
    abstract void finishUpdate(FloatBuffer work, int workOff);

    /** The stored form as named read-only buffers, for checkpoints (no copy). */
    abstract Map<String, Buffer> parts();

    /** Restores {@link #parts()} saved from a weight of the same shape and storage. */
    abstract void load(Map<String, Buffer> saved);

    /** The storage's name in {@code optim.weights} and checkpoints: fp32, int8 or split. */
    abstract String kind();

    /** Bytes of the values (fp32: 4 per element; INT8: 1; split: 3, the bf16 part and the int8 correction). */
    abstract long valueBytes();

    /** Bytes of the per-group scales and zero points (0 for fp32). */
    abstract long scaleBytes();

    /** Number of elements. */
    abstract int length();
}
