package io.galore4j.experiments.cli;

import io.galore4j.trainer.model.OneDnn;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.matmul;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.primitive_attr;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.dnnl.stream;
import org.bytedeco.dnnl.global.dnnl;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.ShortPointer;
import org.bytedeco.mkl.global.mkl_rt;
import org.bytedeco.openblas.global.openblas;

/**
 * The ways this process can compute C[M × N] = op(A) · op(B) with fp32 results: fp32 GEMM through
 * MKL, OpenBLAS and oneDNN, and bf16 × bf16 → fp32 through MKL's {@code cblas_gemm_bf16bf16f32} and
 * oneDNN's matmul (bf16 operands, or fp32 operands that oneDNN may round to bf16 itself). Operands are
 * row-major as the model stores them (docs/design.md §2: y = x·Wᵀ, dx = dy·W, dW = dyᵀ·x).
 */
final class GemmRoutes {

    private GemmRoutes() {
    }

    /** One product: C[m × n] = op(A)[m × k] · op(B)[k × n]; A is stored k × m when transA, B n × k when transB. */
    record Problem(String label, long count, int m, int k, int n, boolean transA, boolean transB) {
        double flops() {
            return 2.0 * m * k * n;
        }
    }

    /** A problem's operands, fp32 and rounded to bf16, and the fp32 result buffer; native memory. */
    static final class Operands implements AutoCloseable {
        final Problem p;
        final float[] a;
        final float[] b;
        final FloatPointer a32;
        final FloatPointer b32;
        final ShortPointer a16;
        final ShortPointer b16;
        final FloatPointer c;

        Operands(Problem p, float[] a, float[] b) {
            this.p = p;
            this.a = a;
            this.b = b;
            a32 = new FloatPointer(a);
            b32 = new FloatPointer(b);
            a16 = new ShortPointer(bf16(a));
            b16 = new ShortPointer(bf16(b));
            c = new FloatPointer((long) p.m() * p.n());
        }

        private static short[] bf16(float[] x) {
            short[] h = new short[x.length];
            for (int i = 0; i < x.length; i++) {
                h[i] = io.galore4j.quant.Bf16.round(x[i]);
            }
            return h;
        }

        @Override
        public void close() {
            for (Pointer q : new Pointer[] {a32, b32, a16, b16, c}) {
                q.close();
            }
        }
    }

    /** One way to compute a problem: prepared once per problem, then run (and timed) repeatedly. */
    interface Route {
        String name();

        /** Whether the route reads the bf16 copies of the operands (a trainer would round its fp32 tensors first). */
        default boolean readsBf16() {
            return false;
        }

        /** Sets the route up for these operands (outside the timed region); the result goes to {@code o.c}. */
        Runnable prepare(Operands o);

        /** The kernel that ran the last prepared problem, where the library says; else empty. */
        default String kernel() {
            return "";
        }
    }

    /** A route this process could not load, and why. */
    record Missing(String name, String reason) {
    }

    /** The routes that load here, in table order (fp32 MKL first: the baseline), and those that do not. */
    static List<Route> available(List<Missing> missing) {
        List<Route> routes = new ArrayList<>();
        Throwable mkl = loadError("org.bytedeco.mkl.global.mkl_rt");
        if (mkl == null) {
            routes.add(mklSgemm());
        } else {
            missing.add(new Missing("mkl sgemm, mkl gemm_bf16bf16f32", "MKL not loadable: " + mkl));
        }
        if ("mkl_rt".equals(System.getProperty("org.bytedeco.openblas.load"))) {
            missing.add(new Missing("openblas sgemm", "JavaCPP's OpenBLAS binding loads MKL in this process"
                    + " (org.bytedeco.openblas.load=mkl_rt; GALORE_BLAS=openblas keeps OpenBLAS)"));
        } else {
            Throwable ob = loadError("org.bytedeco.openblas.global.openblas");
            if (ob == null) {
                routes.add(openblasSgemm());
            } else {
                missing.add(new Missing("openblas sgemm", "OpenBLAS not loadable: " + ob));
            }
        }
        missing.add(new Missing("openblas sbgemm", "not bound by JavaCPP's OpenBLAS preset (no cblas_sbgemm)"));
        Throwable dn = loadError("org.bytedeco.dnnl.global.dnnl");
        if (dn == null) {
            routes.add(new Dnnl("onednn matmul f32", memory.data_type.f32, false));
        } else {
            missing.add(new Missing("onednn matmul", "oneDNN not loadable: " + dn));
        }
        if (mkl == null) {
            routes.add(mklBf16());
        }
        if (dn == null) {
            routes.add(new Dnnl("onednn matmul bf16", memory.data_type.bf16, false));
            routes.add(new Dnnl("onednn f32, fpmath bf16", memory.data_type.f32, true));
        }
        return routes;
    }

    private static Throwable loadError(String className) {
        try {
            Class.forName(className);
            return null;
        } catch (ClassNotFoundException | LinkageError e) {
            Throwable root = e;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            return root;
        }
    }

    /**
     * Sets the thread count of the BLAS routes: MKL's own, and through ND4J the BLAS it loaded
     * (OpenBLAS or MKL). oneDNN's OpenMP takes OMP_NUM_THREADS when the process starts.
     */
    static void threads(List<Route> routes, int n) {
        if (routes.stream().anyMatch(r -> r.name().startsWith("mkl"))) {
            mkl_rt.MKL_Set_Num_Threads(n);
        }
        io.galore4j.trainer.run.BlasThreads.apply(n);
    }

    private static int cblasTrans(boolean t, boolean mkl) {
        if (mkl) {
            return t ? mkl_rt.CblasTrans : mkl_rt.CblasNoTrans;
        }
        return t ? openblas.CblasTrans : openblas.CblasNoTrans;
    }

    /** Row-major leading dimensions of op(A), op(B) as stored, and of C. */
    private static int lda(Problem p) {
        return p.transA() ? p.m() : p.k();
    }

    private static int ldb(Problem p) {
        return p.transB() ? p.k() : p.n();
    }

    /** A CBLAS-style call: row-major, one library function given the problem's operands. */
    record Cblas(String name, boolean readsBf16, Function<Operands, Runnable> call) implements Route {
        public Runnable prepare(Operands o) {
            return call.apply(o);
        }
    }

    static Route mklSgemm() {
        return new Cblas("mkl sgemm", false, o -> () -> mkl_rt.cblas_sgemm(mkl_rt.CblasRowMajor,
                cblasTrans(o.p.transA(), true), cblasTrans(o.p.transB(), true), o.p.m(), o.p.n(), o.p.k(), 1f, o.a32,
                lda(o.p), o.b32, ldb(o.p), 0f, o.c, o.p.n()));
    }

    static Route mklBf16() {
        return new Cblas("mkl gemm_bf16bf16f32", true, o -> () -> mkl_rt.cblas_gemm_bf16bf16f32(mkl_rt.CblasRowMajor,
                cblasTrans(o.p.transA(), true), cblasTrans(o.p.transB(), true), o.p.m(), o.p.n(), o.p.k(), 1f, o.a16,
                lda(o.p), o.b16, ldb(o.p), 0f, o.c, o.p.n()));
    }

    static Route openblasSgemm() {
        return new Cblas("openblas sgemm", false, o -> () -> openblas.cblas_sgemm(openblas.CblasRowMajor,
                cblasTrans(o.p.transA(), false), cblasTrans(o.p.transB(), false), o.p.m(), o.p.n(), o.p.k(), 1f, o.a32,
                lda(o.p), o.b32, ldb(o.p), 0f, o.c, o.p.n()));
    }

    /**
     * oneDNN's matmul primitive: operands of {@code type} (bf16 ones are the rounded copies), fp32
     * result; with {@code fpmathBf16} fp32 operands that the library may round to bf16 itself.
     */
    static final class Dnnl implements Route {
        private final String name;
        private final memory.data_type type;
        private final boolean fpmathBf16;
        private String kernel = "";

        Dnnl(String name, memory.data_type type, boolean fpmathBf16) {
            this.name = name;
            this.type = type;
            this.fpmathBf16 = fpmathBf16;
        }

        public String name() {
            return name;
        }

        @Override
        public boolean readsBf16() {
            return type == memory.data_type.bf16;
        }

        @Override
        public String kernel() {
            return kernel;
        }

        public Runnable prepare(Operands o) {
            Problem p = o.p;
            stream s = OneDnn.stream();
            engine e = OneDnn.engine();
            memory.desc ad = OneDnn.desc(p.m(), p.k(), p.transA(), type);
            memory.desc bd = OneDnn.desc(p.k(), p.n(), p.transB(), type);
            memory.desc cd = OneDnn.desc(p.m(), p.n(), false, memory.data_type.f32);
            primitive_attr attr = new primitive_attr();
            if (fpmathBf16) {
                attr.set_fpmath_mode(dnnl.dnnl_fpmath_mode_bf16);
            }
            matmul.primitive_desc pd = new matmul.primitive_desc(new matmul.desc(ad, bd, cd), attr, e);
            kernel = pd.impl_info_str().getString();
            matmul mm = new matmul(pd);
            boolean f32 = type == memory.data_type.f32;
            IntMemoryMap args = new IntMemoryMap();
            args.put(dnnl.DNNL_ARG_SRC, new memory(ad, e, f32 ? o.a32 : o.a16));
            args.put(dnnl.DNNL_ARG_WEIGHTS, new memory(bd, e, f32 ? o.b32 : o.b16));
            args.put(dnnl.DNNL_ARG_DST, new memory(cd, e, o.c));
            return () -> {
                mm.execute(s, args);
                s._wait();
            };
        }

        /**
         * A run that rounds both fp32 operands to bf16 with oneDNN's reorder (what a trainer keeping
         * fp32 tensors would do before each bf16 product), into fresh buffers of the problem's size.
         */
        static Runnable conversion(Operands o) {
            Problem p = o.p;
            stream s = OneDnn.stream();
            engine e = OneDnn.engine();
            List<Runnable> steps = new ArrayList<>();
            long[][] dims = {{p.transA() ? p.k() : p.m(), p.transA() ? p.m() : p.k()},
                {p.transB() ? p.n() : p.k(), p.transB() ? p.k() : p.n()}};
            FloatPointer[] src = {o.a32, o.b32};
            for (int i = 0; i < 2; i++) {
                memory from = new memory(new memory.desc(dims[i], memory.data_type.f32, memory.format_tag.ab), e, src[i]);
                memory to = new memory(new memory.desc(dims[i], memory.data_type.bf16, memory.format_tag.ab), e);
                reorder r = new reorder(from, to);
                steps.add(() -> r.execute(s, from, to));
            }
            return () -> {
                steps.forEach(Runnable::run);
                s._wait();
            };
        }
    }
}
