package io.galore4j.trainer.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Every buffer one forward/backward pass needs, for a fixed batch B, length T, data type and
 * checkpointing mode, allocated once and reused across steps (off-heap memory is only freed by a
 * GC, DESIGN.md §5). Row blocks are [N = B·T, width]; attention arrays are head-major [B·heads, T, ·].
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

        BlockActivations(DataType type, int n, int hidden, int inter, int bh, int seq, int headDim) {
            invRms1 = new double[n];
            invRms2 = new double[n];
            xn1 = Nd4j.create(type, n, hidden);
            q = Nd4j.create(type, bh, seq, headDim);
            k = Nd4j.create(type, bh, seq, headDim);
            v = Nd4j.create(type, bh, seq, headDim);
            p = Nd4j.create(type, bh, seq, seq);
            o = Nd4j.create(type, n, hidden);
            x1 = Nd4j.create(type, n, hidden);
            xn2 = Nd4j.create(type, n, hidden);
            gate = Nd4j.create(type, n, inter);
            up = Nd4j.create(type, n, inter);
            act = Nd4j.create(type, n, inter);
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

    Workspace(ModelConfig c, DataType type, int batch, int seq, boolean checkpointed) {
        this.type = type;
        this.batch = batch;
        this.seq = seq;
        this.checkpointed = checkpointed;
        int n = batch * seq;
        int h = c.hidden();
        int inter = c.intermediate();
        int bh = batch * c.heads();
        int d = c.headDim();
        streams = new INDArray[c.layers() + 1];
        for (int i = 0; i <= c.layers(); i++) {
            streams[i] = Nd4j.create(type, n, h);
        }
        blocks = new BlockActivations[checkpointed ? 1 : c.layers()];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = new BlockActivations(type, n, h, inter, bh, seq, d);
        }
        recomputed = checkpointed ? Nd4j.create(type, n, h) : null;
        qFlat = Nd4j.create(type, n, h);
        kFlat = Nd4j.create(type, n, h);
        vFlat = Nd4j.create(type, n, h);
        oHeads = Nd4j.create(type, bh, seq, d);
        finalNormed = Nd4j.create(type, n, h);
        finalInvRms = new double[n];
        logits = Nd4j.create(type, n, c.vocab());
        dStream = Nd4j.create(type, n, h);
        dNormed = Nd4j.create(type, n, h);
        dAttnFlat = Nd4j.create(type, n, h);
        dOHeads = Nd4j.create(type, bh, seq, d);
        dP = Nd4j.create(type, bh, seq, seq);
        dQ = Nd4j.create(type, bh, seq, d);
        dK = Nd4j.create(type, bh, seq, d);
        dV = Nd4j.create(type, bh, seq, d);
        dAct = Nd4j.create(type, n, inter);
        dGate = Nd4j.create(type, n, inter);
        dUp = Nd4j.create(type, n, inter);
        gradHiddenHidden = Nd4j.create(type, h, h);
        gradInterHidden = Nd4j.create(type, inter, h);
        gradHiddenInter = Nd4j.create(type, h, inter);
        gradNorm = Nd4j.create(type, h);
        gradVocabHidden = Nd4j.create(type, c.vocab(), h);
    }

    boolean fits(DataType t, int b, int s, boolean cp) {
        return type == t && batch == b && seq == s && checkpointed == cp;
    }

    /** Activations of block {@code layer}. */
    BlockActivations block(int layer) {
        return blocks[checkpointed ? 0 : layer];
    }
}
