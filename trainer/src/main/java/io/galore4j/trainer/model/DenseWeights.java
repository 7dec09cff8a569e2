package io.galore4j.trainer.model;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Plain weight storage: one dense array per parameter, in the deterministic order of
 * {@link LlamaParameters#shapes}. Initialization follows LLaMA pre-training: matrices
 * N(0, 0.02²), RMSNorm gains 1. The arrays are the live weights: {@link #weight} returns them
 * (not copies), so an optimizer may update them in place.
 */
public final class DenseWeights implements WeightSource {

    /** Standard deviation of the initial matrices (LLaMA / GaLore {@code initializer_range}). */
    public static final double INIT_STD = 0.02;

    private final Map<String, INDArray> weights;

    /** Wraps existing arrays (e.g. loaded from a checkpoint); the map's order is kept. */
    public DenseWeights(Map<String, INDArray> weights) {
        this.weights = Collections.unmodifiableMap(new LinkedHashMap<>(weights));
    }

    /** Freshly initialized weights of {@code config} in {@code dataType}, reproducible from {@code seed}. */
    public static DenseWeights initialize(ModelConfig config, DataType dataType, long seed) {
        return initialize(config, dataType, seed, INIT_STD);
    }

    /**
     * As {@link #initialize(ModelConfig, DataType, long)} with matrices N(0, std²). Each parameter
     * draws from its own stream split off one seeded generator in parameter order, so a parameter's
     * values do not depend on the sizes of the others.
     */
    public static DenseWeights initialize(ModelConfig config, DataType dataType, long seed, double std) {
        Map<String, INDArray> weights = new LinkedHashMap<>();
        forEachInitial(config, dataType, seed, std, weights::put);
        return new DenseWeights(weights);
    }

    /**
     * The same initial values as {@link #initialize(ModelConfig, DataType, long)}, created one
     * parameter at a time and handed to {@code sink} in parameter order, so a caller that stores
     * weights in another form (INT8) can release each array before the next is made: peak memory
     * is one fp32 parameter, not the whole model.
     */
    public static void forEachInitial(ModelConfig config, DataType dataType, long seed,
            java.util.function.BiConsumer<String, INDArray> sink) {
        forEachInitial(config, dataType, seed, INIT_STD, sink);
    }

    private static void forEachInitial(ModelConfig config, DataType dataType, long seed, double std,
            java.util.function.BiConsumer<String, INDArray> sink) {
        if (dataType != DataType.FLOAT && dataType != DataType.DOUBLE) {
            throw new IllegalArgumentException("weights dataType must be FLOAT or DOUBLE, got " + dataType);
        }
        if (!(std > 0) || Double.isInfinite(std)) {
            throw new IllegalArgumentException("init std must be finite and > 0, got " + std);
        }
        SplittableRandom root = new SplittableRandom(seed);
        for (Map.Entry<String, long[]> e : LlamaParameters.shapes(config).entrySet()) {
            SplittableRandom random = root.split();
            INDArray w = Nd4j.create(dataType, e.getValue(), 'c');
            if (LlamaParameters.isNorm(e.getKey())) {
                w.assign(1.0);
            } else {
                Elements out = Elements.of(w);
                int n = Math.toIntExact(w.length());
                double[] chunk = Elements.buffer(0, Elements.CHUNK);
                for (int from = 0; from < n; from += Elements.CHUNK) {
                    int len = Math.min(Elements.CHUNK, n - from);
                    for (int i = 0; i < len; i++) {
                        chunk[i] = std * random.nextGaussian();
                    }
                    out.write(chunk, 0, len, from);
                }
            }
            sink.accept(e.getKey(), w);
        }
    }

    @Override
    public INDArray weight(String name) {
        INDArray w = weights.get(name);
        if (w == null) {
            throw new IllegalArgumentException("unknown parameter name: " + name);
        }
        return w;
    }

    /** All parameters by name, in order (unmodifiable map of the live arrays). */
    public Map<String, INDArray> asMap() {
        return weights;
    }
}
