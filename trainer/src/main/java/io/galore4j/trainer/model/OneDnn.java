package io.galore4j.trainer.model;

import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.stream;
import org.bytedeco.dnnl.global.dnnl;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.nativeblas.NativeOpsHolder;

/**
 * The process's one oneDNN CPU engine and stream, and what the bf16 products and {@code galore gemm}
 * share about oneDNN: row-major matrix descriptors, the native address of an ND4J array, and
 * whether the CPU runs bf16 products natively (docs/design.md §5).
 *
 * <p>oneDNN runs on the OpenMP runtime that ND4J's native library has already loaded (one libgomp
 * per process), whose thread count is OMP_NUM_THREADS or one per core unless set: {@link #threads}
 * records the count the bf16 products use, and {@link #applyThreads} sets it on the calling thread
 * right before their primitives are created (a primitive keeps the count it was created with), so
 * the fp32 path's OpenMP setting is never touched.
 */
public final class OneDnn {

    /** Kept reachable: the stream does not own its engine, and a collected engine is destroyed. */
    private static engine engine;
    private static stream stream;
    private static volatile int threads;

    private OneDnn() {
    }

    /** The stream of the CPU engine, created on first use; primitives run on it in order. */
    public static synchronized stream stream() {
        if (stream == null) {
            engine = new engine(org.bytedeco.dnnl.engine.kind.cpu, 0);
            stream = new stream(engine);
        }
        return stream;
    }

    /** The OpenMP thread count of oneDNN's products; 0 leaves OpenMP's own (train.blas_threads resolved). */
    public static void threads(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("oneDNN threads must be >= 0, got " + n);
        }
        threads = n;
    }

    /** Sets {@link #threads}'s count, when one was given, for OpenMP regions started by this thread. */
    static void applyThreads() {
        int n = threads;
        if (n > 0) {
            NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(n);
        }
    }

    /** The CPU engine of {@link #stream}. */
    public static synchronized engine engine() {
        stream();
        return engine;
    }

    /**
     * A 2-D descriptor of a row-major matrix stored as [rows × cols] when {@code t} is false; when
     * true, of the [rows × cols] matrix whose storage is its transpose [cols × rows].
     */
    public static memory.desc desc(long rows, long cols, boolean t, memory.data_type dt) {
        return new memory.desc(new long[] {rows, cols}, dt, t ? memory.format_tag.ba : memory.format_tag.ab);
    }

    /**
     * Whether oneDNN loads here and the CPU's instruction set has native bf16 dot products
     * (AVX512_BF16 or AMX); false when the library cannot load.
     */
    public static boolean bf16Capable() {
        try {
            int isa = dnnl.dnnl_get_effective_cpu_isa();
            int bf16 = dnnl.dnnl_cpu_isa_avx512_core_bf16;
            return (isa & bf16) == bf16;
        } catch (LinkageError e) {
            return false;
        }
    }

    /** Why oneDNN's native library does not load in this process, or null when it does. */
    public static String loadError() {
        try {
            dnnl.dnnl_get_effective_cpu_isa();
            return null;
        } catch (LinkageError e) {
            return String.valueOf(e.getMessage()).lines().findFirst().orElse(e.toString());
        }
    }

    /** The CPU's instruction set as oneDNN names it (e.g. avx512_core_bf16), or why it is unknown. */
    public static String isa() {
        try {
            return dnnl.get_effective_cpu_isa().toString();
        } catch (LinkageError e) {
            return "oneDNN not loadable: " + e.getMessage();
        }
    }

    /**
     * The native address of {@code a}'s first element; {@code a} must be a contiguous row-major
     * array (a whole array, or a view over consecutive elements).
     */
    static Pointer address(INDArray a) {
        long n = 1;
        for (long d : a.shape()) {
            n *= d;
        }
        if (a.ordering() != 'c' || (n > 1 && a.elementWiseStride() != 1)) {
            throw new IllegalArgumentException("oneDNN operands must be contiguous row-major arrays, got "
                    + a.shapeInfoToString());
        }
        Pointer base = a.data().addressPointer();
        long at = base.address() + base.position() * base.sizeof() + a.offset() * a.dataType().width();
        return new Pointer() {
            {
                address = at;
            }
        };
    }
}
