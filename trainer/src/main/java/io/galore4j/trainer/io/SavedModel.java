package io.galore4j.trainer.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.galore4j.trainer.model.DenseWeights;
import io.galore4j.trainer.model.LlamaParameters;
import io.galore4j.trainer.model.ModelConfig;
import io.galore4j.trainer.model.WeightSource;
import io.galore4j.trainer.run.RunDirectory;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The trained model in a run directory: {@value #WEIGHTS} (every parameter in fp32 under its
 * Hugging Face LLaMA name, {@link LlamaParameters}, with the model config and the tokenizer in the
 * metadata) and a Hugging Face style {@value #HF_CONFIG} ({@code LlamaForCausalLM}) beside it.
 */
public final class SavedModel {

    /** The weights file in a run directory. */
    public static final String WEIGHTS = "model.safetensors";
    /** The Hugging Face model config in a run directory. */
    public static final String HF_CONFIG = "config.json";

    private static final ObjectMapper PRETTY = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private SavedModel() {
    }

    /**
     * Writes {@value #WEIGHTS} and {@value #HF_CONFIG} into {@code dir}. Each weight is copied out
     * of {@code weights} the moment it is written (a source may hand out pooled buffers), as fp32.
     */
    public static void save(Path dir, ModelConfig config, String tokenizer, WeightSource weights) throws IOException {
        save(dir.resolve(WEIGHTS), dir.resolve(HF_CONFIG), Dtype.F32, config, tokenizer, weights);
    }

    /**
     * Writes the weights as {@code dtype} (F32, or BF16 rounded to nearest even) to
     * {@code weightsFile} and the Hugging Face config (with the matching {@code torch_dtype}) to
     * {@code configFile}, each atomically.
     */
    public static void save(Path weightsFile, Path configFile, Dtype dtype, ModelConfig config, String tokenizer,
            WeightSource weights) throws IOException {
        if (!dtype.isFloat()) {
            throw new IllegalArgumentException("weights are saved as F32 or BF16, not " + dtype);
        }
        SafetensorsWriter w = new SafetensorsWriter(dtype);
        // "format": "pt" declares a PyTorch-layout state dict, which Hugging Face loaders expect.
        w.metadata("format", "pt");
        for (Map.Entry<String, String> e : metadata(config, tokenizer).entrySet()) {
            w.metadata(e.getKey(), e.getValue());
        }
        for (Map.Entry<String, long[]> e : LlamaParameters.shapes(config).entrySet()) {
            String name = e.getKey();
            w.addBuffer(name, e.getValue(), () -> values(name, weights.weight(name)));
        }
        w.write(weightsFile);
        Map<String, Object> hf = huggingFaceConfig(config);
        hf.put("torch_dtype", dtype == Dtype.BF16 ? "bfloat16" : "float32");
        RunDirectory.writeAtomically(configFile, PRETTY.writeValueAsString(hf) + "\n");
    }

    /**
     * Reads {@code file} into dense fp32 weights for {@code config}. IllegalArgumentException naming
     * the file and the tensor if a parameter is missing, has another shape, or the file holds a
     * tensor the model does not have; NoSuchFileException if the file is missing.
     */
    public static DenseWeights load(Path file, ModelConfig config) throws IOException {
        Map<String, INDArray> weights = new LinkedHashMap<>();
        forEach(file, config, weights::put);
        return new DenseWeights(weights);
    }

    /**
     * As {@link #load}, handing each parameter to {@code sink} as soon as it is read (in
     * {@link LlamaParameters#shapes} order, a new fp32 array the sink owns), so a caller that
     * stores weights in another form never holds the whole model in fp32. Every tensor's name and
     * shape is checked before the first is read.
     */
    public static void forEach(Path file, ModelConfig config, java.util.function.BiConsumer<String, INDArray> sink)
            throws IOException {
        Map<String, long[]> expected = LlamaParameters.shapes(config);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (TensorInfo t : f.tensors()) {
                if (!expected.containsKey(t.name())) {
                    throw new IllegalArgumentException(file + ": tensor '" + t.name() + "' is not a parameter of the"
                            + " configured model (" + describe(config) + ")");
                }
            }
            for (Map.Entry<String, long[]> e : expected.entrySet()) {
                String name = e.getKey();
                if (!f.contains(name)) {
                    throw new IllegalArgumentException(file + ": tensor '" + name + "' is missing");
                }
                TensorInfo t = f.tensor(name);
                if (!Arrays.equals(t.shape(), e.getValue())) {
                    throw new IllegalArgumentException(file + ": tensor '" + name + "' has shape "
                            + Arrays.toString(t.shape()) + " but the configured model (" + describe(config)
                            + ") needs " + Arrays.toString(e.getValue()));
                }
            }
            for (Map.Entry<String, long[]> e : expected.entrySet()) {
                sink.accept(e.getKey(), Nd4j.create(f.read(e.getKey()), e.getValue(), 'c'));
            }
        }
    }

    /** The metadata entries: the model config under the {@code model.*} key names, and the tokenizer. */
    static Map<String, String> metadata(ModelConfig c, String tokenizer) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("hidden", Integer.toString(c.hidden()));
        m.put("layers", Integer.toString(c.layers()));
        m.put("heads", Integer.toString(c.heads()));
        m.put("intermediate", Integer.toString(c.intermediate()));
        m.put("vocab", Integer.toString(c.vocab()));
        m.put("seq_len", Integer.toString(c.seqLen()));
        m.put("rope_theta", Double.toString(c.ropeTheta()));
        m.put("norm_eps", Double.toString(c.normEps()));
        m.put("tokenizer", tokenizer);
        return m;
    }

    /** Hugging Face {@code LlamaConfig} fields of this model (multi-head attention, untied head, SiLU). */
    static Map<String, Object> huggingFaceConfig(ModelConfig c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("architectures", List.of("LlamaForCausalLM"));
        m.put("model_type", "llama");
        m.put("hidden_size", c.hidden());
        m.put("intermediate_size", c.intermediate());
        m.put("num_attention_heads", c.heads());
        m.put("num_hidden_layers", c.layers());
        m.put("num_key_value_heads", c.heads());
        m.put("vocab_size", c.vocab());
        m.put("max_position_embeddings", c.seqLen());
        m.put("rms_norm_eps", c.normEps());
        m.put("rope_theta", c.ropeTheta());
        m.put("hidden_act", "silu");
        m.put("attention_bias", false);
        m.put("tie_word_embeddings", false);
        m.put("torch_dtype", "float32");
        return m;
    }

    /**
     * The values of {@code w} in row-major order: a view of its own buffer when it is a
     * contiguous c-order fp32 array (the trainer's weights are), so saving copies no tensor;
     * otherwise (another type or layout) a copy on the Java heap.
     */
    private static FloatBuffer values(String name, INDArray w) {
        long n = w.length();
        if (w.dataType() == DataType.FLOAT && w.ordering() == 'c' && (n <= 1 || w.elementWiseStride() == 1)) {
            FloatBuffer b = w.data().asNioFloat();
            b.position(Math.toIntExact(w.offset()));
            b.limit(Math.toIntExact(w.offset() + n));
            return b.slice();
        }
        INDArray c = w.dataType() == DataType.FLOAT ? w.dup('c') : w.castTo(DataType.FLOAT);
        try {
            float[] v = c.data().asFloat();
            if (v.length != n) {
                throw new IllegalStateException(name + ": copied " + v.length + " values of " + n);
            }
            return FloatBuffer.wrap(v);
        } finally {
            c.close();
        }
    }

    private static String describe(ModelConfig c) {
        return "hidden=" + c.hidden() + ", layers=" + c.layers() + ", heads=" + c.heads() + ", intermediate="
                + c.intermediate() + ", vocab=" + c.vocab();
    }

}
