package io.galore4j.quant.bench;

import io.galore4j.quant.EncodedState;
import io.galore4j.quant.GroupQuantizer;
import io.galore4j.quant.Moment;
import io.galore4j.quant.QuantizedTensor;
import io.galore4j.quant.Rounding;
import io.galore4j.quant.RoundingRng;
import io.galore4j.quant.StateCodec;

/**
 * Load-robust companion to {@link CodecBenchmark} for a shared machine: for each codec,
 * interleaves rounds of [array copy, encode, decode] on 16M floats and keeps the minimum time
 * of each, printing min(copy) / min(codec) (1.0 = as fast as a copy). Not JMH (no forking or
 * blackholes; the results are consumed), so treat it as a cross-check. Run with the module's
 * test classpath: {@code java -cp ... io.galore4j.quant.bench.CodecThroughput [rounds [codec ...]]}
 * (codecs named as in the table, e.g. {@code int8-sr softsign8/FIRST}; default all).
 */
public final class CodecThroughput {
    private CodecThroughput() {
    }

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        int n = CodecBenchmark.N;
        float[] signed = CodecBenchmark.sample(false);
        float[] positive = CodecBenchmark.sample(true);
        float[] dst = new float[n];
        RoundingRng rng = new RoundingRng(1);
        String[] codecs = {"int8", "int8-sr", "int4", "int4-sr", "dynamic8/FIRST", "dynamic8/SECOND", "de4/FIRST",
                "linear4nz/SECOND", "linear4nz-rank1/SECOND", "signed2/FIRST", "signed3/FIRST", "log2/SECOND",
                "log3/SECOND", "softsign8/FIRST", "sqrt8/SECOND", "fp32/FIRST"};
        if (args.length > 1) {
            codecs = java.util.Arrays.copyOfRange(args, 1, args.length);
        }
        System.out.println("| codec | encode / copy | decode / copy |");
        System.out.println("|---|---|---|");
        long sink = 0;
        for (String codec : codecs) {
            long copy = Long.MAX_VALUE;
            long enc = Long.MAX_VALUE;
            long dec = Long.MAX_VALUE;
            GroupQuantizer gq = null;
            QuantizedTensor qt = null;
            Rounding rounding = codec.endsWith("-sr") ? Rounding.STOCHASTIC : Rounding.NEAREST;
            StateCodec sc = null;
            EncodedState st = null;
            float[] src = signed;
            if (codec.startsWith("int")) {
                gq = new GroupQuantizer(codec.startsWith("int8") ? 8 : 4);
                qt = gq.allocate(n);
            } else {
                String[] p = codec.split("/");
                sc = StateCodec.of(p[0], Moment.valueOf(p[1]));
                st = sc.allocate(4096, n / 4096);
                src = sc.moment() == Moment.SECOND ? positive : signed;
            }
            for (int r = 0; r < rounds; r++) {
                long t0 = System.nanoTime();
                System.arraycopy(src, 0, dst, 0, n);
                long t1 = System.nanoTime();
                if (gq != null) {
                    gq.requantize(qt, src, 0, rounding, rng);
                } else {
                    sc.encode(src, 0, st, rng);
                }
                long t2 = System.nanoTime();
                if (gq != null) {
                    gq.dequantize(qt, dst, 0);
                } else {
                    sc.decode(st, dst, 0);
                }
                long t3 = System.nanoTime();
                sink += Float.floatToRawIntBits(dst[r * 1000]);
                copy = Math.min(copy, t1 - t0);
                enc = Math.min(enc, t2 - t1);
                dec = Math.min(dec, t3 - t2);
            }
            System.out.printf("| %s | %.2f | %.2f |%n", codec, (double) copy / enc, (double) copy / dec);
        }
        System.out.println("(copy min " + "per codec row; checksum " + sink + ")");
    }
}
