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
 * Where a layer keeps its basis Pᵀ (r×d, fp32 c-order): as fp32, or (Q-GaLore, DESIGN.md §3) as
 * INT4 codes, two per byte, with one scale and zero point per group of 256 consecutive elements
 * of Pᵀ (so groups run along a singular vector), rounded to nearest. An INT4 basis is decoded into
 * a {@link ProjectionScratch} buffer when it is used, and again only if another layer sharing the
 * scratch used the buffer in between: the layer itself keeps only the codes.
 */
final class BasisStore {
    private final int rank;
    private final int dimension;
    private final INDArray values;            // fp32 Pᵀ; null for INT4
    private final GroupQuantizer quantizer;   // null for fp32
    private final QuantizedTensor codes;      // null for fp32
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
        } else {
            values = Nd4j.createUninitialized(DataType.FLOAT, rank, dimension);
            quantizer = null;
            codes = null;
        }
    }

    int dimension() {
        return dimension;
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

    /** Makes a {@link #roundTrip}ped basis current: {@code freshT} with its codes (null for fp32). */
    void set(INDArray freshT, QuantizedTensor freshCodes) {
        if (values != null) {
            values.assign(freshT);
        } else {
            codes.load(freshCodes.codes(), freshCodes.scales(), freshCodes.zeroPoints());
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
     * {@code codes}, {@code scales} and {@code zero_points}; read-only views, no copy.
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
        }
        return p;
    }

    /**
     * Restores {@link #parts()} saved from a store of the same rank, dimension and format and
     * makes the basis current: the INT4 codes are decoded as at a refresh, so the fp32 basis is
     * bit for bit the one that was saved.
     */
    void load(Map<String, ? extends Buffer> saved) {
        if (codes == null) {
            if (!(saved.get("values") instanceof FloatBuffer v) || v.remaining() != values.length()) {
                throw new IllegalArgumentException("basis: expected " + values.length() + " fp32 values");
            }
            FloatBuffer dst = values.data().asNioFloat();
            float[] tmp = new float[(int) values.length()];
            v.duplicate().get(tmp);
            for (float x : tmp) {
                if (!Float.isFinite(x)) {
                    throw new IllegalArgumentException("basis: non-finite value " + x);
                }
            }
            dst.put((int) values.offset(), tmp);
        } else {
            if (!(saved.get("codes") instanceof ByteBuffer c) || !(saved.get("scales") instanceof FloatBuffer sc)
                    || !(saved.get("zero_points") instanceof FloatBuffer z)) {
                throw new IllegalArgumentException("basis: expected INT4 codes, scales and zero_points");
            }
            version++; // before the codes change: a decoded copy of the old ones is stale even if loading fails
            codes.load(c, sc, z);
        }
        set = true;
    }

    /** Bytes of the stored form: 4 per element for fp32; codes, scales and zero points for INT4. */
    long storedBytes() {
        return codes != null ? codes.bytes() : 4L * rank * dimension;
    }
}
