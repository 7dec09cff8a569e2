package io.galore4j.galore;

import java.nio.FloatBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;

/** An fp32 weight: the INDArray handed to {@code add} (made contiguous if it was not). */
final class Fp32Weight extends WeightStore {
    private final INDArray w;
    private final FloatBuffer buf;
    private final int off;
    private final float[] chunk = new float[Chunks.SIZE];

    Fp32Weight(INDArray initial) {
        this.w = Chunks.contiguous(initial);
        this.buf = w.data().asNioFloat();
        this.off = (int) w.offset();
    }

    @Override
    INDArray value() {
        return w;
    }

    @Override
    void applyChunk(int start, int len, float[] delta, double lr, double weightDecay, FloatBuffer work, int workOff) {
        float[] c = chunk;
        float eta = (float) lr;
        float decay = (float) (lr * weightDecay);
        // a whole-tensor state codec (rank-1 scaling) hands over the whole tensor at once
        for (int s = 0; s < len; s += c.length) {
            int n = Math.min(c.length, len - s);
            buf.get(off + start + s, c, 0, n);
            for (int i = 0; i < n; i++) {
                c[i] = c[i] - eta * delta[s + i] - decay * c[i];
            }
            buf.put(off + start + s, c, 0, n);
        }
    }

    @Override
    void finishUpdate(FloatBuffer work, int workOff) {
    }

    @Override
    long valueBytes() {
        return 4L * length();
    }

    @Override
    long scaleBytes() {
        return 0;
    }

    @Override
    int length() {
        return (int) w.length();
    }
}
