package io.galore4j.galore;

import io.galore4j.quant.EnumKeys;
import java.nio.Buffer;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The weights of a state saved by {@link LayerwiseOptimizer#saveState}, read without building an
 * optimizer: only a parameter's stored weight tensors are read (fp32 values, INT8 codes with
 * scales and zero points, or split bf16 high parts with int8 corrections) and decoded to fp32 by
 * the code its weight store decodes them with during training, so the values are bit-identical
 * to {@link LayerwiseOptimizer#weight} after {@link LayerwiseOptimizer#loadState}. Moments, bases
 * and pooled buffers are neither read nor allocated.
 */
public final class SavedWeights {

    private SavedWeights() {
    }

    /**
     * Checks that {@code state} (as {@link LayerwiseOptimizer#saveState} returned it) holds a state
     * for exactly the parameters {@code names}; IllegalArgumentException listing those missing and
     * those the model does not have.
     */
    public static void checkParameters(Map<String, ?> state, Set<String> names) {
        if (!(state.get("params") instanceof Map<?, ?> params)) {
            throw new IllegalArgumentException("optimizer state needs params");
        }
        checkParameterNames(params, names);
    }

    static void checkParameterNames(Map<?, ?> params, Set<String> names) {
        if (!params.keySet().equals(names)) {
            Set<String> missing = new TreeSet<>(names);
            missing.removeAll(params.keySet());
            Set<String> extra = new TreeSet<>();
            for (Object k : params.keySet()) {
                if (!names.contains(k)) {
                    extra.add(String.valueOf(k));
                }
            }
            throw new IllegalArgumentException("the checkpoint's parameters differ from the model's (missing "
                    + missing + ", not in the model " + extra + ")");
        }
    }

    /**
     * The weight of parameter {@code name} with {@code shape}, as a new fp32 c-order array the caller
     * owns. {@code state} is the map {@link LayerwiseOptimizer#saveState} returned; {@code source}
     * hands back its tensors. IllegalArgumentException naming the parameter when the state has none
     * for it, names an unknown storage, or a stored tensor is missing, of another size or holds a
     * value the storage cannot hold.
     */
    public static INDArray decode(Map<String, ?> state, String name, long[] shape, OptimizerState.Source source) {
        if (!(state.get("params") instanceof Map<?, ?> params) || !(params.get(name) instanceof Map<?, ?> param)) {
            throw new IllegalArgumentException("parameter " + name + ": the checkpoint holds no state for it");
        }
        Object kind = param.get("weights");
        WeightStorage storage = EnumKeys.find(List.of(WeightStorage.values()), String.valueOf(kind));
        long elements = 1;
        for (long d : shape) {
            elements *= d;
        }
        int length = Math.toIntExact(elements);
        Function<String, Buffer> saved = part -> source.get(ParamState.tensor(name, "weight", part));
        INDArray out = Nd4j.create(DataType.FLOAT, shape, 'c');
        FloatBuffer dst = out.data().asNioFloat();
        int off = (int) out.offset();
        try {
            if (storage == null) {
                throw new IllegalArgumentException("weights is " + kind + ", not fp32, int8 or split");
            }
            switch (storage) {
                case FP32 -> Fp32Weight.decode(saved, length, dst, off);
                case INT8 -> Int8Weight.decode(saved, length, dst, off);
                case SPLIT -> SplitWeight.decode(saved, length, dst, off);
            }
        } catch (IllegalArgumentException e) {
            out.close();
            throw new IllegalArgumentException("parameter " + name + ": " + e.getMessage(), e);
        }
        return out;
    }
}
