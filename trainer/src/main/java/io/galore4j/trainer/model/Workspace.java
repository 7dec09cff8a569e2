package io.galore4j.trainer.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Every buffer one forward/backward pass needs, for a fixed batch B, length T, data type and
 * checkpointing mode, allocated once and reused across steps (off-heap memory is only freed by a
 * GC, docs/design.md §5). Row blocks are [N = B·T, width]; attention arrays are head-major [B·heads, T, ·].
 */
final class Workspace {

    /** What one block keeps from forward for its backward. */
    static final class BlockActivations {
        final double[] invRms1;
        final double[] invRms2;
        final INDArray xn1;
        final INDArray q;
        final INDArray k;
        final INDArray v;
        final INDArray p;
        final INDArray o;
        final INDArray x1;
        final INDArray xn2;
        final INDArray gate;
        final INDArray up;
        final INDArray act;

        BlockActivations(DataType type, int n, int hidden, int inter, int bh, int seq, int headDim,
                long[] count) {
            invRms1 = new double[n];
            count[0] += 2L * n * 8 / Math.max(1, type.width()); // invRms1 and invRms2, as doubles
            invRms2 = new double[n];
            xn1 = alloc(count, type, n, hidden);
            q = alloc(count, type, bh, seq, headDim);
            k = alloc(count, type, bh, seq, headDim);
            v = alloc(count, type, bh, seq, headDim);
            p = alloc(count, type, bh, seq, seq);
            o = alloc(count, type, n, hidden);
            x1 = alloc(count, type, n, hidden);
            xn2 = alloc(count, type, n, hidden);
            gate = alloc(count, type, n, inter);
            up = alloc(count, type, n, inter);
            act = alloc(count, type, n, inter);
        }
    }

    final DataType type;
    final int batch;
    final int seq;
    final boolean checkpointed;

    /** streams[i] is the input of block i; streams[layers] the input of the final norm. */
    final INDArray[] streams;
    /** One per block, or a single shared one under activation checkpointing. */
    final BlockActivations[] blocks;
    /** Output of a recomputed block (checkpointing), discarded. */
    final INDArray recomputed;

    // forward scratch
    final INDArray qFlat;
    final INDArray kFlat;
    final INDArray vFlat;
    final INDArray oHeads;
    final INDArray finalNormed;
    final double[] finalInvRms;
    final INDArray logits;

    // backward scratch
    final INDArray dStream;
    final INDArray dNormed;
    final INDArray dAttnFlat;
    final INDArray dOHeads;
    final INDArray dP;
    final INDArray dQ;
    final INDArray dK;
    final INDArray dV;
    final INDArray dAct;
    final INDArray dGate;
    final INDArray dUp;

    // gradient buffers, reused once the sink has consumed them
    final INDArray gradHiddenHidden;
    final INDArray gradInterHidden;
    final INDArray gradHiddenInter;
    final INDArray gradNorm;
    final INDArray gradVocabHidden;

    /** The weight products: ND4J's BLAS, or bf16 ones with their operand buffers. */
    final Linear linear;

    /** Elements allocated for activations and scratch, and for gradient buffers. */
    final long activationElements;
    final long gradientElements;
    /** Bytes of the bf16 products' operand buffers and scratchpad (0 in fp32). */
    final long bf16Bytes;

    Workspace(ModelConfig c, DataType type, int batch, int seq, boolean checkpointed, Compute compute) {
        this.type = type;
        this.batch = batch;
        this.seq = seq;
        this.checkpointed = checkpointed;
        int n = batch * seq;
        int h = c.hidden();
        int inter = c.intermediate();
        int bh = batch * c.heads();
        int d = c.headDim();
        long[] activations = {0};
        long[] gradients = {0};
        streams = new INDArray[c.layers() + 1];
        for (int i = 0; i <= c.layers(); i++) {
            streams[i] = alloc(activations, type, n, h);
        }
        blocks = new BlockActivations[checkpointed ? 1 : c.layers()];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = new BlockActivations(type, n, h, inter, bh, seq, d, activations);
        }
        recomputed = checkpointed ? alloc(activations, type, n, h) : null;
        qFlat = alloc(activations, type, n, h);
        kFlat = alloc(activations, type, n, h);
        vFlat = alloc(activations, type, n, h);
        oHeads = alloc(activations, type, bh, seq, d);
        finalNormed = alloc(activations, type, n, h);
        finalInvRms = new double[n];
        activations[0] += (long) n * 8 / Math.max(1, type.width());
        logits = alloc(activations, type, n, c.vocab());
        dStream = alloc(activations, type, n, h);
        dNormed = alloc(activations, type, n, h);
        dAttnFlat = alloc(activations, type, n, h);
        dOHeads = alloc(activations, type, bh, seq, d);
        dP = alloc(activations, type, bh, seq, seq);
        dQ = alloc(activations, type, bh, seq, d);
        dK = alloc(activations, type, bh, seq, d);
        dV = alloc(activations, type, bh, seq, d);
        dAct = alloc(activations, type, n, inter);
        dGate = alloc(activations, type, n, inter);
        dUp = alloc(activations, type, n, inter);
        gradHiddenHidden = alloc(gradients, type, h, h);
        gradInterHidden = alloc(gradients, type, inter, h);
        gradHiddenInter = alloc(gradients, type, h, inter);
        gradNorm = alloc(gradients, type, h);
        gradVocabHidden = alloc(gradients, type, c.vocab(), h);
        activationElements = activations[0];
        gradientElements = gradients[0];
        Bf16Products bf16 = compute == Compute.BF16 ? new Bf16Products(c, n) : null;
        linear = bf16 == null ? Linear.BLAS : new Linear(bf16);
        bf16Bytes = bf16 == null ? 0 : bf16.bytes();
    }

    /** Creates a zeroed array and adds its element count to {@code count[0]}. */
    private static INDArray alloc(long[] count, DataType type, long... shape) {
        INDArray a = Nd4j.create(type, shape);
        count[0] += a.length();
        return a;
    }

    /**
     * Elements (in the workspace's data type) that a workspace of this shape holds, without
     * allocating it: {activations and scratch, gradient buffers}. Mirrors the constructor; a test
     * checks the two agree.
     */
    static long[] elements(ModelConfig c, int batch, int seq, boolean checkpointed, int typeWidth) {
        long n = (long) batch * seq;
        long h = c.hidden();
        long inter = c.intermediate();
        long bh = (long) batch * c.heads();
        long d = c.headDim();
        long doubles = 8 / Math.max(1, typeWidth); // a double[] entry in units of the data type
        long perBlock = 2 * n * doubles + 4 * n * h + 3 * bh * seq * d + bh * seq * seq + 3 * n * inter;
        long blocks = checkpointed ? 1 : c.layers();
        long activations = (c.layers() + 1) * n * h + blocks * perBlock + (checkpointed ? n * h : 0)
                + 3 * n * h + bh * seq * d + n * h + n * doubles + n * c.vocab()
                + 3 * n * h + 4 * bh * seq * d + bh * seq * seq + 3 * n * inter;
        long gradients = h * h + 2 * inter * h + h + c.vocab() * h;
        return new long[] {activations, gradients};
    }

    /** Bytes of the bf16 products' buffers for batches of {@code batch} × {@code seq} (0 in fp32). */
    static long bf16Bytes(ModelConfig c, int batch, int seq, Compute compute) {
        return compute == Compute.BF16 ? Bf16Products.bytes(c, (long) batch * seq) : 0;
    }

    boolean fits(DataType t, int b, int s, boolean cp) {
        return type == t && batch == b && seq == s && checkpointed == cp;
    }

    /** Activations of block {@code layer}. */
    BlockActivations block(int layer) {
        return blocks[checkpointed ? 0 : layer];
    }
}
