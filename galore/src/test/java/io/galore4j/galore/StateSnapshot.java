package io.galore4j.galore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An optimizer's whole saved state ({@link LayerwiseOptimizer#saveState}) with its tensors copied
 * out, as a checkpoint holds it: step count, generator, every parameter's stored weight (codes),
 * moments, basis, step count and refresh-policy and solver state.
 */
record StateSnapshot(Map<String, Object> json, Map<String, Buffer> tensors) {

    static StateSnapshot of(LayerwiseOptimizer opt) {
        Map<String, Buffer> views = new LinkedHashMap<>();
        Map<String, Object> json = opt.saveState(views::put);
        return new StateSnapshot(json, copy(views));
    }

    /** Copies every saved tensor, as a checkpoint file would. */
    static Map<String, Buffer> copy(Map<String, Buffer> views) {
        Map<String, Buffer> out = new HashMap<>();
        views.forEach((k, b) -> {
            if (b instanceof FloatBuffer f) {
                float[] a = new float[f.remaining()];
                f.duplicate().get(a);
                out.put(k, FloatBuffer.wrap(a));
            } else if (b instanceof ByteBuffer y) {
                byte[] a = new byte[y.remaining()];
                y.duplicate().get(a);
                out.put(k, ByteBuffer.wrap(a));
            } else {
                ShortBuffer s = (ShortBuffer) b;
                short[] a = new short[s.remaining()];
                s.duplicate().get(a);
                out.put(k, ShortBuffer.wrap(a));
            }
        });
        return out;
    }

    /** Asserts the two states are the same bit for bit (fp32 values compared by their bits). */
    void assertSameAs(StateSnapshot other, String what) {
        assertEquals(json, other.json, what + ": scalars (steps, generator, codecs, refresh-policy and solver state)");
        assertEquals(tensors.keySet(), other.tensors.keySet(), what + ": tensor names");
        tensors.forEach((k, b) -> {
            Buffer o = other.tensors.get(k);
            if (b instanceof FloatBuffer f) {
                assertArrayEquals(bits(f), bits((FloatBuffer) o), what + ": " + k);
            } else if (b instanceof ByteBuffer y) {
                assertArrayEquals(y.array(), ((ByteBuffer) o).array(), what + ": " + k);
            } else {
                assertArrayEquals(((ShortBuffer) b).array(), ((ShortBuffer) o).array(), what + ": " + k);
            }
        });
    }

    private static int[] bits(FloatBuffer f) {
        int[] out = new int[f.remaining()];
        for (int i = 0; i < out.length; i++) {
            out[i] = Float.floatToRawIntBits(f.get(f.position() + i));
        }
        return out;
    }
}
