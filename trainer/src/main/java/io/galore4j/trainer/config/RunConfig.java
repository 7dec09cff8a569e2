package io.galore4j.trainer.config;

import io.galore4j.galore.OptimSettings;
import io.galore4j.galore.qzo.QzoSettings;
import io.galore4j.trainer.data.ByteTokenizer;
import io.galore4j.trainer.data.Tokenizer;
import io.galore4j.trainer.model.LlamaParameters;
import io.galore4j.trainer.model.ModelConfig;
import io.galore4j.trainer.run.Checkpoints;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A run's settings read from a {@link ConfigTree}, every one validated (IllegalArgumentException
 * naming the key), and the tree resolved: the model keys the preset derived and the optimizer's
 * resolved options filled in, as the run directory's config.yaml records them.
 *
 * @param tree                  the resolved tree
 * @param model                 the model (preset, then model.* keys)
 * @param checkpointActivations model.checkpoint_activations
 * @param train                 the train.* settings
 * @param optim                 the optim.* settings, each parameter's checked against its shape
 */
public record RunConfig(ConfigTree tree, ModelConfig model, boolean checkpointActivations, TrainSettings train,
        OptimSettings optim) {

    /** Keys a resumed run may change. */
    public static final List<String> RESUMABLE_KEYS = List.of("train.steps", "train.eval_every", "train.log_every",
            "train.ckpt_every", "train.keep_ckpts", "train.max_bad_steps", "train.eval_batches", "train.time_limit_s",
            "train.workers", "train.master", "train.max_restarts", "train.check_every", "train.exchange_timeout_s",
            "train.blas_threads", "train.compute");

    /**
     * Reads every setting of {@code tree}. Every parameter's optimizer settings are resolved for
     * its shape (a rank above min(m, n) is refused here), without allocating any parameter.
     */
    public static RunConfig resolve(ConfigTree tree) {
        ModelConfig model = modelConfig(tree);
        boolean checkpoint = tree.values().bool("model.checkpoint_activations");
        TrainSettings train = TrainSettings.from(tree);
        OptimSettings optim = OptimSettings.from(tree.section("optim"));
        for (Map.Entry<String, long[]> p : LlamaParameters.shapes(model).entrySet()) {
            optim.resolve(p.getKey(), p.getValue()); // every parameter's settings, checked without allocating it
        }
        // Fill in what the presets derived, so config.yaml is fully resolved.
        ConfigTree resolved = tree;
        for (Map.Entry<String, Object> e : modelKeys(model).entrySet()) {
            resolved = resolved.set(e.getKey() + "=" + e.getValue());
        }
        resolved = resolved.withSection("optim", optim.toMap());
        return new RunConfig(resolved, model, checkpoint, train, optim);
    }

    /**
     * The settings a checkpoint must agree with to be resumed: every key except those that only
     * say how long to run and how often to log, evaluate and save ({@link #RESUMABLE_KEYS}).
     */
    public static Map<String, Object> fingerprint(ConfigTree tree) {
        Map<String, Object> flat = new java.util.TreeMap<>();
        for (String section : List.of("model", "data", "train", "optim")) {
            flatten(section, tree.section(section), flat);
        }
        for (String k : RESUMABLE_KEYS) {
            flat.remove(k);
        }
        return flat;
    }

    @SuppressWarnings("unchecked")
    private static void flatten(String prefix, Map<String, Object> map, Map<String, Object> out) {
        for (Map.Entry<String, Object> e : map.entrySet()) {
            String key = prefix + "." + e.getKey();
            if (e.getValue() instanceof Map<?, ?> m) {
                flatten(key, (Map<String, Object>) m, out);
            } else {
                out.put(key, e.getValue() == null ? null : String.valueOf(e.getValue()));
            }
        }
    }

    /**
     * Refuses a checkpoint written under settings other than {@code tree}'s, naming the first keys
     * that differ (IllegalArgumentException naming the checkpoint's file), or past {@code steps}.
     * A key the checkpoint does not list matches when it has its default value: it was added to
     * the defaults later, and its default keeps the older behaviour.
     */
    public static void checkCompatible(ConfigTree tree, Checkpoints.Loaded c, int steps) {
        if (!(c.trainer().get("config") instanceof Map<?, ?> saved)) {
            throw new IllegalArgumentException(c.dir().resolve(Checkpoints.TRAINER) + " holds no config");
        }
        Map<String, Object> now = fingerprint(tree);
        java.util.TreeSet<String> keys = new java.util.TreeSet<>(now.keySet());
        for (Object k : saved.keySet()) {
            keys.add(String.valueOf(k));
        }
        List<String> differ = new java.util.ArrayList<>();
        keys.remove("optim.method");
        List<String> order = new java.util.ArrayList<>(List.of("optim.method")); // the likeliest cause first
        order.addAll(keys);
        Map<String, Object> defaults = fingerprint(ConfigTree.defaults());
        for (String k : order) {
            if (!saved.containsKey(k) && defaults.containsKey(k) && java.util.Objects.equals(now.get(k), defaults.get(k))) {
                continue; // a key added to the defaults after the checkpoint was written, at its default
            }
            if (!java.util.Objects.equals(now.get(k), saved.get(k))) {
                differ.add(k + " (checkpoint " + saved.get(k) + ", now " + now.get(k) + ")");
            }
        }
        if (!differ.isEmpty()) {
            throw new IllegalArgumentException("checkpoint " + c.dir().resolve(Checkpoints.TRAINER)
                    + " was written with other settings: " + String.join(", ", differ.subList(0, Math.min(3, differ.size())))
                    + (differ.size() > 3 ? " and " + (differ.size() - 3) + " more" : "")
                    + "; only " + String.join(", ", RESUMABLE_KEYS) + " may change on --resume");
        }
        if (c.step() > steps) {
            throw new IllegalArgumentException("checkpoint " + c.dir() + " is at step " + c.step()
                    + ", past train.steps=" + steps);
        }
    }

    /**
     * The {@code qzo.*} keys ({@code galore finetune --method qzo}), each checked with its name in
     * the message (ε, C, η and the floor > 0; the rest by {@link QzoSettings}).
     */
    public static QzoSettings qzo(ConfigValues v) {
        double max = Double.MAX_VALUE;
        return new QzoSettings(v.positive("qzo.eps", 0, max), v.positive("qzo.clip", 0, max),
                v.positive("qzo.lr", 0, max), v.positive("qzo.min_scale", 0, max),
                v.integer("qzo.bits", 4, 8), v.integer("qzo.group_size", 1, Integer.MAX_VALUE));
    }

    /** The validated {@code data.tokenizer}. */
    public static Tokenizer tokenizer(ConfigValues v) {
        return Tokenizer.named(v.string("data.tokenizer", false));
    }

    /**
     * model.* keys: the preset, then any field set explicitly. An unset model.vocab is the
     * preset's for the byte tokenizer and the tokenizer's own size for a BPE one; a vocabulary
     * smaller than the tokenizer's is refused.
     */
    public static ModelConfig modelConfig(ConfigTree tree) {
        ConfigValues v = tree.values();
        ModelConfig p = ModelConfig.preset(v.string("model.preset", false));
        Tokenizer tokenizer = tokenizer(v);
        int max = Integer.MAX_VALUE;
        int vocab;
        if (v.isSet("model.vocab")) {
            vocab = v.integer("model.vocab", 1, max);
            if (vocab < tokenizer.vocabSize()) {
                throw new IllegalArgumentException("model.vocab must be ≥ " + tokenizer.vocabSize() + " for the "
                        + tokenizer.name() + " tokenizer (got " + vocab + ")");
            }
        } else {
            vocab = tokenizer instanceof ByteTokenizer ? p.vocab() : tokenizer.vocabSize();
        }
        return new ModelConfig(
                v.isSet("model.hidden") ? v.integer("model.hidden", 1, max) : p.hidden(),
                v.isSet("model.layers") ? v.integer("model.layers", 1, max) : p.layers(),
                v.isSet("model.heads") ? v.integer("model.heads", 1, max) : p.heads(),
                v.isSet("model.intermediate") ? v.integer("model.intermediate", 1, max) : p.intermediate(),
                vocab,
                v.isSet("model.seq_len") ? v.integer("model.seq_len", 1, max) : p.seqLen(),
                v.positive("model.rope_theta", 1, Double.MAX_VALUE),
                v.positive("model.norm_eps", 0, 1));
    }

    /** The model.* keys a preset sets ({@link ModelConfig#PRESET_KEYS}) with the values of {@code m}. */
    private static Map<String, Object> modelKeys(ModelConfig m) {
        List<Integer> values = List.of(m.hidden(), m.layers(), m.heads(), m.intermediate(), m.vocab(), m.seqLen());
        Map<String, Object> k = new LinkedHashMap<>();
        for (int i = 0; i < values.size(); i++) {
            k.put("model." + ModelConfig.PRESET_KEYS.get(i), values.get(i));
        }
        return k;
    }
}
