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
        double[] row = Elements.buffer(0, h);
        for (int n = 0; n < tokens.length; n++) {
            e.read(tokens[n] * h, h, row, 0);
            o.write(row, 0, h, n * h);
        }
    }

    /** dE = Σ_n onehot(tokens[n]) ⊗ dOut[n]: scatter-add of the rows into a zeroed table. */
    static void backward(INDArray dOut, int[] tokens, INDArray dTable) {
        int h = (int) dTable.size(1);
        dTable.assign(0.0);
        Elements d = Elements.of(dOut);
        Elements g = Elements.of(dTable);
        double[] row = Elements.buffer(0, h);
        double[] acc = Elements.buffer(1, h);
        for (int n = 0; n < tokens.length; n++) {
            d.read(n * h, h, row, 0);
            g.read(tokens[n] * h, h, acc, 0);
            for (int j = 0; j < h; j++) {
                acc[j] += row[j];
            }
            g.write(acc, 0, h, tokens[n] * h);
        }
    }
}
