package io.galore4j.trainer.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/** Token embedding: row n of the output is row tokens[n] of the table E [vocab, H]. */
final class Embedding {

    private Embedding() {
    }

    static void lookup(INDArray table, int[] tokens, INDArray out) {
        int h = (int) table.size(1);
        Elements e = Elements.of(table);
        Elements o = Elements.of(out);
        for (int n = 0; n < tokens.length; n++) {
            int src = tokens[n] * h;
            int dst = n * h;
            for (int j = 0; j < h; j++) {
                o.set(dst + j, e.get(src + j));
            }
        }
    }

    /** dE = Σ_n onehot(tokens[n]) ⊗ dOut[n]: scatter-add of the rows into a zeroed table. */
    static void backward(INDArray dOut, int[] tokens, INDArray dTable) {
        int h = (int) dTable.size(1);
        dTable.assign(0.0);
        Elements d = Elements.of(dOut);
        Elements g = Elements.of(dTable);
        for (int n = 0; n < tokens.length; n++) {
            int dst = tokens[n] * h;
            int src = n * h;
            for (int j = 0; j < h; j++) {
                g.add(dst + j, d.get(src + j));
            }
        }
    }
}
