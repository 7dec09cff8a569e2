package io.galore4j.projection;

import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

import io.galore4j.quant.GroupQuantizer;
import io.galore4j.quant.QuantizedTensor;
import io.galore4j.quant.Rounding;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Where a layer keeps its basis Pᵀ (r×d, fp32 c-order): as fp32, or (Q-GaLore, docs/design.md §3) as
 * INT4 codes, two per byte, with one scale and zero point per group of 256 consecutive elements
 * of Pᵀ (so groups run along a singular vector), rounded to nearest. An INT4 basis is decoded into
 * a {@link ProjectionScratch} buffer when it is used, and again only if another layer sharing the
 * scratch used the buffer in between: the layer itself keeps only the codes, and the first
 * singular vector as computed, in fp32 (d floats, as Q-GaLore keeps it), for the convergence
 * cosine of the next refresh ({@link #firstCosine}).
 */
public final class BasisStore {
    /** The part name of an INT4 basis's fp32 first vector. */
    static final String FIRST_VECTOR = "first_vector";
    private final int rank;
    private final int dimension;
    private final INDArray values;            // fp32 Pᵀ; null for INT4
    private final GroupQuantizer quantizer;   // null for fp32
    private final QuantizedTensor codes;      // null for fp32
    private final float[] first;              // INT4: the first vector before encoding; null for fp32
    private final ProjectionScratch scratch;
    private long version;                     // changes whenever the codes do
    private boolean set;

    BasisStore(int rank, int dimension, int bits, ProjectionScratch scratch) {
        this.rank = rank;
        this.dimension = dimension;
        this.scratch = scratch;
        if (bits == 4) {
            values = null;
            quantizer = new GroupQuantizer(4, GroupQuantizer.DEFAULT_GROUP_SIZE);
            codes = quantizer.allocate(Math.multiplyExact(rank, dimension));
            first = new float[dimension];
        } else {
            values = Nd4j.createUninitialized(DataType.FLOAT, rank, dimension);
            quantizer = null;
            codes = null;
            first = null;
        }
    }

    /**
     * The cosine between the current basis's first vector as computed (fp32, before any INT4
     * encoding) and row 0 of {@code freshT}, signed, each norm at least 1e-8 as torch's
     * {@code cosine_similarity} clamps it (Q-GaLore's convergence signal); NaN while no basis is set.
     * Call it before {@link #roundTrip}.
     */
    double firstCosine(INDArray freshT) {
        if (!set) {
            return Double.NaN;
        }
        FloatBuffer now = freshT.data().asNioFloat();
        int off = (int) freshT.offset();
        FloatBuffer before = values != null ? values.data().asNioFloat() : FloatBuffer.wrap(first);
        int bOff = values != null ? (int) values.offset() : 0;
        double dot = 0;
        double nowSq = 0;
        double beforeSq = 0;
        for (int j = 0; j < dimension; j++) {
            double a = before.get(bOff + j);
            double b = now.get(off + j);
            dot += a * b;
            beforeSq += a * a;
            nowSq += b * b;
        }
        return dot / (Math.max(Math.sqrt(beforeSq), 1e-8) * Math.max(Math.sqrt(nowSq), 1e-8));
    }

    int dimension() {
        return dimension;
    }

    /**
     * A copy of the first vector (row 0) of {@code freshT} as computed, for an INT4 store, which
     * keeps it in fp32 beside the codes; null for fp32. Call it before {@link #roundTrip}.
     */
    float[] firstVector(INDArray freshT) {
        if (first == null) {
            return null;
        }
        float[] v = new float[dimension];
        freshT.data().asNioFloat().get((int) freshT.offset(), v, 0, dimension);
        return v;
    }

    /**
     * What this store would keep of {@code freshT}, without changing the store: for INT4, the
     * codes (returned) and their decoded values, which overwrite {@code freshT}, so the caller
     * measures and then {@link #set}s exactly what is kept; for fp32, null and {@code freshT} as it is.
     */
    QuantizedTensor roundTrip(INDArray freshT) {
        if (quantizer == null) {
            return null;
        }
        FloatBuffer b = freshT.data().asNioFloat();
        int off = (int) freshT.offset();
        QuantizedTensor c = quantizer.quantize(b, off, (int) freshT.length(), Rounding.NEAREST, null);
        quantizer.dequantize(c, b, off);
        return c;
    }

    /**
     * Makes a {@link #roundTrip}ped basis current: {@code freshT} with its codes and the
     * {@link #firstVector} taken before the round trip (both null for fp32).
     */
    void set(INDArray freshT, QuantizedTensor freshCodes, float[] firstVector) {
        if (values != null) {
            values.assign(freshT);
        } else {
            codes.load(freshCodes.codes(), freshCodes.scales(), freshCodes.zeroPoints());
            System.arraycopy(firstVector, 0, first, 0, dimension);
            version++;
            boolean[] fresh = {false};
            scratch.basis(this, version, rank, dimension, fresh).assign(freshT); // already decoded: keep it
        }
        set = true;
    }

    boolean isSet() {
        return set;
    }

    /**
     * The fp32 Pᵀ: the stored array, or for INT4 the decoded codes in the scratch's buffer (valid
     * until another layer sharing the scratch asks for its basis).
     */
    INDArray basisT() {
        if (values != null) {
            return values;
        }
        boolean[] fresh = {false};
        INDArray decoded = scratch.basis(this, version, rank, dimension, fresh);
        if (!fresh[0]) {
            quantizer.dequantize(codes, decoded.data().asNioFloat(), (int) decoded.offset());
        }
        return decoded;
    }

    /** The INT4 codes, or null when the basis is kept in fp32. */
    QuantizedTensor codes() {
        return codes;
    }

    /**
     * The stored form, for checkpoints: {@code values} (fp32 Pᵀ, row-major) or INT4
     * {@code codes}, {@code scales}, {@code zero_points} and the fp32 {@code first_vector};
     * read-only views, no copy.
     */
    Map<String, Buffer> parts() {
        Map<String, Buffer> p = new LinkedHashMap<>();
        if (codes == null) {
            FloatBuffer b = values.data().asNioFloat();
            b.position((int) values.offset()).limit((int) (values.offset() + values.length()));
            p.put("values", b.slice().asReadOnlyBuffer());
        } else {
            p.put("codes", codes.codes());
            p.put("scales", codes.scales());
            p.put("zero_points", codes.zeroPoints());
            p.put(FIRST_VECTOR, FloatBuffer.wrap(first).asReadOnlyBuffer());
        }
        return p;
    }

    /**
     * Restores {@link #parts()} saved from a store of the same rank, dimension and format and
     * makes the basis current: the INT4 codes are decoded as at a refresh, so the fp32 basis is
     * bit for bit the one that was saved. An INT4 state saved before the fp32 first vector was
     * kept has none: its decoded first row stands in for it.
     */
    void load(Map<String, ? extends Buffer> saved) {
        if (codes == null) {
            if (!(saved.get("values") instanceof FloatBuffer v) || v.remaining() != values.length()) {
                throw new IllegalArgumentException("basis: expected " + values.length() + " fp32 values");
            }
            FloatBuffer dst = values.data().asNioFloat();
            float[] tmp = new float[(int) values.length()];
            v.duplicate().get(tmp);
            requireFinite(tmp);
            dst.put((int) values.offset(), tmp);
        } else {
            if (!(saved.get("codes") instanceof ByteBuffer c) || !(saved.get("scales") instanceof FloatBuffer sc)
                    || !(saved.get("zero_points") instanceof FloatBuffer z)) {
                throw new IllegalArgumentException("basis: expected INT4 codes, scales and zero_points");
            }
            Buffer f = saved.get(FIRST_VECTOR);
            if (f != null && (!(f instanceof FloatBuffer fb) || fb.remaining() != dimension)) {
                throw new IllegalArgumentException("basis: expected " + dimension + " fp32 values in " + FIRST_VECTOR);
            }
            float[] firstVector = new float[dimension];
            if (f != null) {
                ((FloatBuffer) f).duplicate().get(firstVector);
                requireFinite(firstVector);
            }
            version++; // before the codes change: a decoded copy of the old ones is stale even if loading fails
            codes.load(c, sc, z);
            if (f == null) {
                quantizer.dequantizeRange(codes, 0, dimension, firstVector, 0);
            }
            System.arraycopy(firstVector, 0, first, 0, dimension);
        }
        set = true;
    }

    /** Bytes of the stored form (see {@link #bytes}). */
    long storedBytes() {
        return bytes(codes != null ? 4 : 32, rank, dimension);
    }

    /**
     * Bytes of a stored r×d basis, without allocating: 4 per element for fp32 ({@code bits} 32);
     * for INT4 the codes with their scales and zero points ({@link QuantizedTensor#bytes}) and
     * the fp32 first vector (d floats).
     */
    public static long bytes(int bits, long rank, long dimension) {
        return bits == 4 ? QuantizedTensor.bytes(4, GroupQuantizer.DEFAULT_GROUP_SIZE, rank * dimension) + 4 * dimension
                : 4 * rank * dimension;
    }

    /** A basis rebuilt from a broadcast payload: fp32 Pᵀ (decoded, for INT4) with its codes and first vector (null for fp32). */
    record Decoded(INDArray basisT, QuantizedTensor codes, float[] first) {
    }

    /**
     * Floats of a stored r×d basis in a broadcast payload: fp32, r·d values; INT4, the packed codes
     * three bytes per float, the scales and zero points, and the fp32 first vector.
     */
    static long payloadFloats(int bits, long rank, long dimension) {
        if (bits != 4) {
            return rank * dimension;
        }
        long n = rank * dimension;
        long codeBytes = (n + 1) / 2;
        long groups = (n + GroupQuantizer.DEFAULT_GROUP_SIZE - 1) / GroupQuantizer.DEFAULT_GROUP_SIZE;
        return (codeBytes + 2) / 3 + 2 * groups + dimension;
    }

    /**
     * Writes a {@link #roundTrip}ped basis as this store keeps it into {@code out} from {@code off}:
     * fp32 values, or INT4 codes (bytes b0, b1, b2 as the integer b0 + 256·b1 + 65536·b2, exact
     * in fp32), scales, zero points and the first vector.
     */
    void writePayload(INDArray freshT, QuantizedTensor freshCodes, float[] firstVector, float[] out, int off) {
        int n = rank * dimension;
        if (quantizer == null) {
            freshT.data().asNioFloat().get((int) freshT.offset(), out, off, n);
            return;
        }
        ByteBuffer c = freshCodes.codes();
        int bytes = c.remaining();
        for (int i = 0; i < bytes; i += 3) {
            int word = 0;
            for (int k = 0; k < 3 && i + k < bytes; k++) {
                word |= (c.get(i + k) & 0xFF) << (8 * k);
            }
            out[off++] = word;
        }
        FloatBuffer sc = freshCodes.scales();
        int groups = sc.remaining();
        sc.get(out, off, groups);
        freshCodes.zeroPoints().get(out, off + groups, groups);
        System.arraycopy(firstVector, 0, out, off + 2 * groups, dimension);
    }

    /** The basis {@link #writePayload} wrote at {@code off} of {@code in}, decoded as at a refresh. */
    Decoded readPayload(float[] in, int off) {
        int n = rank * dimension;
        INDArray basisT = Nd4j.createUninitialized(DataType.FLOAT, rank, dimension);
        try {
            FloatBuffer dst = basisT.data().asNioFloat();
            if (quantizer == null) {
                float[] v = java.util.Arrays.copyOfRange(in, off, off + n);
                requireFinite(v);
                dst.put((int) basisT.offset(), v);
                return new Decoded(basisT, null, null);
            }
            byte[] codeBytes = new byte[(n + 1) / 2];
            for (int i = 0; i < codeBytes.length; i += 3) {
                int word = (int) in[off++];
                for (int k = 0; k < 3 && i + k < codeBytes.length; k++) {
                    codeBytes[i + k] = (byte) (word >>> (8 * k));
                }
            }
            int groups = (n + GroupQuantizer.DEFAULT_GROUP_SIZE - 1) / GroupQuantizer.DEFAULT_GROUP_SIZE;
            float[] scales = java.util.Arrays.copyOfRange(in, off, off + groups);
            float[] zeros = java.util.Arrays.copyOfRange(in, off + groups, off + 2 * groups);
            float[] firstVector = java.util.Arrays.copyOfRange(in, off + 2 * groups, off + 2 * groups + dimension);
            requireFinite(firstVector);
            QuantizedTensor q = new QuantizedTensor(4, GroupQuantizer.DEFAULT_GROUP_SIZE, n, codeBytes, scales, zeros);
            quantizer.dequantize(q, dst, (int) basisT.offset());
            return new Decoded(basisT, q, firstVector);
        } catch (RuntimeException e) {
            basisT.close();
            throw e;
        }
    }

    private static void requireFinite(float[] values) {
        for (float x : values) {
            if (!Float.isFinite(x)) {
                throw new IllegalArgumentException("basis: non-finite value " + x);
            }
        }
    }
}
