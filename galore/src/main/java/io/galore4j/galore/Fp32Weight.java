package io.galore4j.galore;

import java.nio.Buffer;
import java.nio.FloatBuffer;
import java.util.Map;
import java.util.function.Function;
import org.nd4j.linalg.api.ndarray.INDArray;

/** An fp32 weight: the INDArray handed to {@code add} (made contiguous if it was not). */
final class Fp32Weight extends WeightStore {
    private final INDArray w;
    private final FloatBuffer buf;
    private final int off;

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
    void read(int start, int n, float[] dst) {
        buf.get(off + start, dst, 0, n);
    }

    @Override
    void write(int start, int n, float[] src, FloatBuffer work, int workOff) {
        buf.put(off + start, src, 0, n);
    }

    @Override
    void finishUpdate(FloatBuffer work, int workOff) {
    }

    @Override
    Map<String, Buffer> parts() {
        FloatBuffer b = buf.duplicate();
        b.position(off).limit(off + length());
        return Map.of("values", b.slice().asReadOnlyBuffer());
    }

    @Override
    void load(Map<String, Buffer> saved) {
        buf.put(off, values(saved::get, length()));
    }

    /** Writes the {@code length} values saved as {@link #parts()} into {@code dst} from {@code dstOff}. */
    static void decode(Function<String, Buffer> saved, int length, FloatBuffer dst, int dstOff) {
        dst.put(dstOff, values(saved, length));
    }

    /** The saved values, checked: {@code length} of them, all finite. */
    private static float[] values(Function<String, Buffer> saved, int length) {
        if (!(saved.apply("values") instanceof FloatBuffer v) || v.remaining() != length) {
            throw new IllegalArgumentException("weight: expected " + length + " fp32 values");
        }
        float[] tmp = new float[length];
        v.duplicate().get(tmp);
        for (float x : tmp) {
            if (!Float.isFinite(x)) {
                throw new IllegalArgumentException("weight: non-finite value " + x);
            }
        }
        return tmp;
    }

    @Override
    String kind() {
        return "fp32";
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
