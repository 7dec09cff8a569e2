package io.galore4j.trainer.model;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.matmul;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.post_ops;
import org.bytedeco.dnnl.primitive;
import org.bytedeco.dnnl.primitive_attr;
import org.bytedeco.dnnl.primitive_desc_base;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.dnnl.stream;
import org.bytedeco.dnnl.global.dnnl;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The weight products of {@link Linear} with bf16 operands and fp32 accumulation and results, through
 * oneDNN's matmul (docs/design.md §5): each fp32 operand is rounded to bf16 (nearest even) by a
 * oneDNN reorder into one of two scratch buffers right before its product, so weights, activations
 * and gradients stay fp32 everywhere else. Every primitive for the model's shapes at N rows is built
 * up front and shares one scratchpad, so the memory held is fixed and {@link #bytes} counts it exactly.
 * Not thread-safe.
 */
final class Bf16Products {

    /** C[m × n] (+)= op(A)[m × k] · op(B)[k × n]; A is stored k × m when transA, B n × k when transB. */
    private record Shape(long m, long k, long n, boolean transA, boolean transB, boolean accumulate) {
    }

    /** A built primitive with its argument memories, whose data handles are set before each run. */
    private record Prepared(primitive prim, memory[] mem, IntMemoryMap args) {
    }

    private static final memory.data_type BF16 = memory.data_type.bf16;
    private static final memory.data_type F32 = memory.data_type.f32;

    private final stream strm = OneDnn.stream();
    private final Map<Shape, Prepared> products = new HashMap<>();
    private final Map<List<Long>, Prepared> roundings = new HashMap<>();
    /** The bf16 copies of the A and B operands of the product under way. */
    final INDArray a16;
    final INDArray b16;
    /** The primitives' shared scratchpad. */
    final INDArray scratchpad;

    /** Builds every primitive the model's products need for {@code n} = B·T rows. */
    Bf16Products(ModelConfig c, long n) {
        engine eng = OneDnn.engine();
        Map<Shape, primitive_desc_base> mm = matmuls(c, n, eng);
        Map<List<Long>, primitive_desc_base> rd = reorders(c, n, eng);
        long[] sizes = sizes(c, n, mm, rd);
        a16 = Nd4j.create(DataType.BFLOAT16, sizes[0]);
        b16 = Nd4j.create(DataType.BFLOAT16, sizes[1]);
        scratchpad = Nd4j.create(DataType.BYTE, Math.max(1, sizes[2]));
        Pointer pad = OneDnn.address(scratchpad);
        Pointer any = OneDnn.address(a16);
        mm.forEach((s, pd) -> {
            memory[] m = {new memory(OneDnn.desc(s.m(), s.k(), s.transA(), BF16), eng, any),
                new memory(OneDnn.desc(s.k(), s.n(), s.transB(), BF16), eng, any),
                new memory(OneDnn.desc(s.m(), s.n(), false, F32), eng, any)};
            IntMemoryMap args = new IntMemoryMap();
            args.put(dnnl.DNNL_ARG_SRC, m[0]);
            args.put(dnnl.DNNL_ARG_WEIGHTS, m[1]);
            args.put(dnnl.DNNL_ARG_DST, m[2]);
            args.put(dnnl.DNNL_ARG_SCRATCHPAD, new memory(pd.scratchpad_desc(), eng, pad));
            products.put(s, new Prepared(new matmul((matmul.primitive_desc) pd), m, args));
        });
        rd.forEach((dims, pd) -> {
            memory[] m = {new memory(OneDnn.desc(dims.get(0), dims.get(1), false, F32), eng, any),
                new memory(OneDnn.desc(dims.get(0), dims.get(1), false, BF16), eng, any)};
            IntMemoryMap args = new IntMemoryMap();
            args.put(dnnl.DNNL_ARG_FROM, m[0]);
            args.put(dnnl.DNNL_ARG_TO, m[1]);
            args.put(dnnl.DNNL_ARG_SCRATCHPAD, new memory(pd.scratchpad_desc(), eng, pad));
            roundings.put(dims, new Prepared(new reorder((reorder.primitive_desc) pd), m, args));
        });
    }

    /** Bytes of the bf16 operand buffers and the scratchpad for {@code n} rows, without allocating them. */
    static long bytes(ModelConfig c, long n) {
        engine eng = OneDnn.engine();
        long[] s = sizes(c, n, matmuls(c, n, eng), reorders(c, n, eng));
        return 2 * (s[0] + s[1]) + Math.max(1, s[2]);
    }

    /** The bytes this instance holds (what {@link #bytes(ModelConfig, long)} computes). */
    long bytes() {
        return 2 * (a16.length() + b16.length()) + scratchpad.length();
    }

    /** y = x Wᵀ, or y += x Wᵀ when {@code accumulate}. */
    void forward(INDArray x, INDArray w, INDArray y, boolean accumulate) {
        round(x, a16);
        round(w, b16);
        run(new Shape(x.rows(), x.columns(), w.rows(), false, true, accumulate), a16, b16, y);
        strm._wait();
    }

    /** dx (+)= dy W (added when {@code accumulate}), then dW = dyᵀ x; dy is rounded once for both. */
    void backward(INDArray dy, INDArray w, INDArray x, INDArray dx, boolean accumulate, INDArray dw) {
        round(dy, a16);
        round(w, b16);
        run(new Shape(dy.rows(), dy.columns(), w.columns(), false, false, accumulate), a16, b16, dx);
        round(x, b16);
        run(new Shape(dy.columns(), dy.rows(), x.columns(), true, false, false), a16, b16, dw);
        strm._wait();
    }

    private void round(INDArray from, INDArray to) {
        Prepared r = roundings.get(List.of(from.size(0), from.size(1)));
        if (r == null) {
            throw new IllegalStateException("no bf16 rounding prepared for " + from.shapeInfoToString());
        }
        r.mem()[0].set_data_handle(OneDnn.address(from));
        r.mem()[1].set_data_handle(OneDnn.address(to));
        r.prim().execute(strm, r.args());
    }

    private void run(Shape s, INDArray a, INDArray b, INDArray c) {
        Prepared p = products.get(s);
        if (p == null || c.dataType() != DataType.FLOAT) {
            throw new IllegalStateException("no bf16 product prepared for " + s + " into " + c.dataType());
        }
        p.mem()[0].set_data_handle(OneDnn.address(a));
        p.mem()[1].set_data_handle(OneDnn.address(b));
        p.mem()[2].set_data_handle(OneDnn.address(c));
        p.prim().execute(strm, p.args());
    }

    /** The weight shapes [out, in] of the model's products: attention, gate/up, down, LM head. */
    private static long[][] weightShapes(ModelConfig c) {
        long h = c.hidden();
        long inter = c.intermediate();
        return new long[][] {{h, h}, {inter, h}, {h, inter}, {c.vocab(), h}};
    }

    /**
     * The matmul descriptors, for the thread count of {@link OneDnn#threads}: oneDNN fixes a
     * primitive's threads (and so its scratchpad) when it is created.
     */
    private static Map<Shape, primitive_desc_base> matmuls(ModelConfig c, long n, engine eng) {
        OneDnn.applyThreads();
        Set<Shape> shapes = new LinkedHashSet<>();
        for (long[] w : weightShapes(c)) {
            for (boolean acc : new boolean[] {false, true}) {
                shapes.add(new Shape(n, w[1], w[0], false, true, acc)); // y (+)= x Wᵀ
                shapes.add(new Shape(n, w[0], w[1], false, false, acc)); // dx (+)= dy W
            }
            shapes.add(new Shape(w[0], n, w[1], true, false, false)); // dW = dyᵀ x
        }
        Map<Shape, primitive_desc_base> pds = new HashMap<>();
        for (Shape s : shapes) {
            primitive_attr attr = new primitive_attr();
            attr.set_scratchpad_mode(dnnl.scratchpad_mode.user);
            if (s.accumulate()) {
                post_ops ops = new post_ops();
                ops.append_sum(); // scale 1: C += A·B
                attr.set_post_ops(ops);
            }
            matmul.desc d = new matmul.desc(OneDnn.desc(s.m(), s.k(), s.transA(), BF16),
                    OneDnn.desc(s.k(), s.n(), s.transB(), BF16), OneDnn.desc(s.m(), s.n(), false, F32));
            pds.put(s, new matmul.primitive_desc(d, attr, eng));
        }
        return pds;
    }

    private static Map<List<Long>, primitive_desc_base> reorders(ModelConfig c, long n, engine eng) {
        Set<List<Long>> dims = new LinkedHashSet<>();
        for (long[] w : weightShapes(c)) {
            dims.add(List.of(w[0], w[1])); // the weight
            dims.add(List.of(n, w[0])); // an output's gradient
            dims.add(List.of(n, w[1])); // an input
        }
        Map<List<Long>, primitive_desc_base> pds = new HashMap<>();
        for (List<Long> d : dims) {
            primitive_attr attr = new primitive_attr();
            attr.set_scratchpad_mode(dnnl.scratchpad_mode.user);
            pds.put(d, new reorder.primitive_desc(eng, OneDnn.desc(d.get(0), d.get(1), false, F32), eng,
                    OneDnn.desc(d.get(0), d.get(1), false, BF16), attr, false));
        }
        return pds;
    }

    /**
     * {bf16 elements of the A buffer, of the B buffer, scratchpad bytes}: A holds an input or an
     * output gradient, B a weight or an input (dW = dyᵀ x), the scratchpad the largest any primitive asks.
     */
    private static long[] sizes(ModelConfig c, long n, Map<Shape, primitive_desc_base> mm,
            Map<List<Long>, primitive_desc_base> rd) {
        long a = 0;
        long b = 0;
        for (long[] w : weightShapes(c)) {
            a = Math.max(a, n * Math.max(w[0], w[1]));
            b = Math.max(b, Math.max(w[0] * w[1], n * w[1]));
        }
        List<primitive_desc_base> all = new ArrayList<>(mm.values());
        all.addAll(rd.values());
        long pad = 0;
        for (primitive_desc_base pd : all) {
            pad = Math.max(pad, pd.scratchpad_desc().get_size());
        }
        return new long[] {a, b, pad};
    }
}
