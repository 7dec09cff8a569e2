package io.galore4j.galore;

import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * A 64-bit hash of an optimizer's state, to check that data-parallel replicas stay identical
 * (docs/design.md §3.9): not cryptographic, only sensitive to every bit. Each value is mixed in as
 * h ← (h ⊕ x)·K followed by a xor-shift, K an odd 64-bit constant (the golden ratio's), in a fixed order.
 */
final class StateChecksum {
    private static final long K = 0x9E3779B97F4A7C15L;
    private long h = 0x6A09E667F3BCC908L;

    long value() {
        long x = h ^ (h >>> 31);
        x *= 0xBF58476D1CE4E5B9L;
        return x ^ (x >>> 29);
    }

    StateChecksum add(long x) {
        h = (h ^ x) * K;
        h ^= h >>> 32;
        return this;
    }

    StateChecksum add(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        add(b.length);
        return add(ByteBuffer.wrap(b));
    }

    /** Every named part, name then contents, in the map's order. */
    StateChecksum add(Map<String, Buffer> parts) {
        for (Map.Entry<String, Buffer> e : parts.entrySet()) {
            add(e.getKey());
            add(e.getValue());
        }
        return this;
    }

    /** The buffer's elements from its position to its limit (not moved), by their bits. */
    StateChecksum add(Buffer buffer) {
        add(buffer.remaining());
        if (buffer instanceof FloatBuffer f) {
            f = f.duplicate();
            while (f.remaining() >= 2) {
                add(((long) Float.floatToRawIntBits(f.get()) << 32) | (Float.floatToRawIntBits(f.get()) & 0xFFFFFFFFL));
            }
            if (f.hasRemaining()) {
                add(Float.floatToRawIntBits(f.get()));
            }
        } else if (buffer instanceof ByteBuffer b) {
            b = b.duplicate();
            while (b.remaining() >= 8) {
                add(b.getLong());
            }
            while (b.hasRemaining()) {
                add(b.get());
            }
        } else if (buffer instanceof ShortBuffer s) {
            s = s.duplicate();
            while (s.hasRemaining()) {
                add(s.get());
            }
        } else {
            throw new IllegalArgumentException("state checksum: unsupported buffer " + buffer.getClass());
        }
        return this;
    }

    /**
     * The checksum of every parameter (in order: name, step count, weight, moment and basis parts,
     * projector state with its refresh policy and solver count) and the rounding generator's state.
     */
    static long of(Iterable<ParamState> params, long[] rngState, long step) {
        StateChecksum c = new StateChecksum().add(step);
        for (long w : rngState) {
            c.add(w);
        }
        for (ParamState p : params) {
            c.add(p.name).add(p.steps).add(p.weight.parts()).add(p.m.parts());
            if (p.v != null) {
                c.add(p.v.parts());
            }
            if (p instanceof GaloreParam g) {
                c.add(g.projector().state().toString()).add(g.svdCount());
                if (g.projector().hasBasis()) {
                    c.add(g.projector().basisParts());
                }
            }
        }
        return c.value();
    }
}
