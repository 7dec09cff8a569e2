package io.galore4j.trainer;

import io.galore4j.galore.ExchangeMemory;
import io.galore4j.galore.MemoryAccount;
import io.galore4j.galore.MemoryAccount.Component;
import io.galore4j.galore.OptimSettings;
import io.galore4j.galore.ParamSettings;
import io.galore4j.projection.RefreshWorkspace;
import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.config.RunConfig;
import io.galore4j.trainer.config.TrainSettings;
import io.galore4j.trainer.data.ByteTokenizer;
import io.galore4j.trainer.data.Corpus;
import io.galore4j.trainer.data.Tokenizer;
import io.galore4j.trainer.model.ActivationMemory;
import io.galore4j.trainer.model.Compute;
import io.galore4j.trainer.model.LlamaParameters;
import io.galore4j.trainer.model.ModelConfig;
import io.galore4j.trainer.run.RunJson;
import io.galore4j.trainer.run.Summary;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The bytes a training run needs, by component: the one per-run account that every report uses
 * with this one grouping ({@code galore memory}, the {@code memory} and {@code memory_estimate}
 * objects of summary.json, the memory check of {@code train} and {@code bench}). Computed from
 * the configuration without allocating anything (the optimizer's exact account
 * {@link MemoryAccount#estimate}, the model's exact working memory {@link ActivationMemory#estimate}),
 * or for a finished run from its optimizer's and model's own accounts; plus the transient memory of
 * the largest basis refresh, the corpus, and the runtime's own footprint. The byte formulas of
 * each storage format live with the format (quant's codecs, {@code QuantizedTensor},
 * {@code SplitFloat}; projection's {@code BasisStore}, {@link RefreshWorkspace}).
 *
 * <p>Components (bytes):
 * <ul>
 * <li>{@code weights}: stored weights (fp32, INT8 codes with their scales and zero points, or
 * split bf16 + int8 corrections);</li>
 * <li>{@code weight_pool}: fp32 copies INT8 and split weights are decoded into for the model;</li>
 * <li>{@code gradients}: the model's fp32 gradient buffers (layer-wise updates: one per weight
 * shape, released to the optimizer at once) plus the optimizer's accumulation buffers (fp32 or
 * bf16, one per parameter) when train.grad_accum &gt; 1;</li>
 * <li>{@code optimizer_m}, {@code optimizer_v}: each moment with its block scales;</li>
 * <li>{@code projection}: stored bases, and the working buffers all projectors share (the largest
 * decoded INT4 basis, projected gradient and rotation);</li>
 * <li>{@code refresh}: the largest transient working memory of one basis computation (SVD);</li>
 * <li>{@code exchange_buffers}: with train.workers &gt; 1, the working memory of one worker's gradient
 * exchange ({@link ExchangeMemory}: the bucket, the pieces handed to the collective and its copies
 * of them, the exchanged R, a refresh's mean gradient and basis); 0 for one process;</li>
 * <li>{@code activations}: activations kept for backward plus scratch, for the run's
 * checkpointing setting ({@code activations_checkpointed} and {@code activations_full} give both);</li>
 * <li>{@code data}: the corpus's bytes and 4 bytes per token;</li>
 * <li>{@code runtime}: {@value #RUNTIME_MIB} MiB for the JVM with ND4J and the BLAS loaded and
 * its young generation, plus {@value #HEAP_OVERHEAD_PERCENT}% of the bytes the Java heap holds (the
 * persistent optimizer account: stored weights, moments and bases; and the data): the garbage-first
 * collector keeps the regions it has used resident after they are freed and keeps per-region
 * structures (remembered sets, marking bitmap) in proportion to the heap it uses, and for a
 * data-parallel worker {@value #WORKER_RUNTIME_MIB} MiB more for the
 * Spark executor it runs in and the collective's native buffers (docs/design.md §3.8;
 * docs/benchmarks.md compares estimates with peak RSS and derives the percentage).</li>
 * </ul>
 *
 * @param compute    the weight products' arithmetic (train.compute resolved): bf16 adds their operand
 *                   buffers to the activations
 * @param components bytes by component, in display order
 * @param persistentBytesPerParameter weights, scales, bases and moments per parameter: what the
 *                                    optimizer keeps for the whole run
 * @param accumulationBytesPerParameter the accumulation buffers per parameter (0 unless
 *                                      train.grad_accum &gt; 1): the gradients kept across
 *                                      micro-batches, on top of the persistent bytes
 */
public record MemoryEstimate(String method, ModelConfig model, int batch, int seq, boolean checkpointed,
        Compute compute, Map<String, Long> components, long activationsCheckpointed, long activationsFull,
        double persistentBytesPerParameter, double accumulationBytesPerParameter) {

    /**
     * The runtime's base in MiB: the JVM with ND4J and the BLAS loaded, its code, metaspace and
     * thread stacks, and the heap's young generation; what a {@code micro} run holds beyond the other
     * components (docs/benchmarks.md, "`galore plan`: the first configuration against measured RSS").
     */
    public static final long RUNTIME_MIB = 210;

    /**
     * The resident memory the JVM keeps beyond the objects of its heap, as a percentage of the bytes
     * the heap holds, measured (docs/benchmarks.md, "`galore plan`: the first configuration against
     * measured RSS").
     */
    public static final long HEAP_OVERHEAD_PERCENT = 15;

    /** A data-parallel worker's further runtime allowance in MiB: its Spark executor and the collective. */
    public static final long WORKER_RUNTIME_MIB = 256;

    /** The default corpus's size in bytes (see {@link Corpus#DEFAULT_RESOURCE}). */
    static final long DEFAULT_CORPUS_BYTES = 21_012_848L;

    /** The components in display order: the keys of {@link #components()} and of {@link #toMap()}. */
    public static final List<String> COMPONENTS = List.of("weights", "weight_pool", "gradients", "optimizer_m",
            "optimizer_v", "projection", "refresh", "exchange_buffers", "activations", "data", "runtime");

    /**
     * The estimate for a validated configuration with batches of {@code batch} × {@code seq}
     * tokens (1 ≤ seq ≤ model.seq_len); a null batch or seq is the configuration's own
     * (train.batch_size, model.seq_len).
     */
    public static MemoryEstimate of(ConfigTree tree, Integer batch, Integer seq) throws IOException {
        ModelConfig model = RunConfig.modelConfig(tree);
        TrainSettings train = TrainSettings.from(tree);
        int b = batch != null ? batch : train.batchSize();
        int t = seq != null ? seq : model.seqLen();
        if (b < 1) {
            throw new IllegalArgumentException("batch must be ≥ 1, got " + b);
        }
        if (t < 1 || t > model.seqLen()) {
            throw new IllegalArgumentException("seq must be in [1, model.seq_len = " + model.seqLen() + "], got " + t);
        }
        OptimSettings optim = OptimSettings.from(tree.section("optim"));
        Map<String, long[]> shapes = LlamaParameters.shapes(model);
        MemoryAccount account = MemoryAccount.estimate(optim, shapes, train.gradAccum() > 1);
        boolean checkpointed = tree.values().bool("model.checkpoint_activations");
        long exchange = train.parallel().workers() > 1 ? ExchangeMemory.of(optim, shapes).bytes() : 0;
        long data = dataBytes(tree);
        long runtime = ((RUNTIME_MIB + (train.parallel().workers() > 1 ? WORKER_RUNTIME_MIB : 0)) << 20)
                + (account.persistent() + data) * HEAP_OVERHEAD_PERCENT / 100;
        Compute compute = Compute.resolve(train.compute());
        if (compute == Compute.BF16) { // the bf16 products' scratchpad depends on their threads
            io.galore4j.trainer.model.OneDnn.threads(io.galore4j.trainer.run.BlasThreads.resolve(train.blasThreads()));
        }
        return of(optim.method(), model, b, t, checkpointed, compute, account,
                ActivationMemory.estimate(model, b, t, checkpointed, DataType.FLOAT, compute), refreshBytes(optim, model),
                exchange, data, runtime);
    }

    /**
     * The account of the run this estimates, from its optimizer's live account and its model's
     * working memory (what summary.json reports); the refresh, exchange, data and runtime components, and
     * the activations of the other checkpointing setting, are this estimate's, so the two agree
     * whenever the live parts do.
     */
    public MemoryEstimate live(MemoryAccount account, ActivationMemory work) {
        return of(method, model, batch, seq, checkpointed, compute, account, work, components.get("refresh"),
                components.get("exchange_buffers"), components.get("data"), components.get("runtime"));
    }

    private static MemoryEstimate of(String method, ModelConfig model, int batch, int seq, boolean checkpointed,
            Compute compute, MemoryAccount account, ActivationMemory work, long refresh, long exchange, long data,
            long runtime) {
        ActivationMemory withCp = checkpointed ? work
                : ActivationMemory.estimate(model, batch, seq, true, DataType.FLOAT, compute);
        ActivationMemory without = checkpointed
                ? ActivationMemory.estimate(model, batch, seq, false, DataType.FLOAT, compute) : work;
        long[] bytes = {
            account.total(Component.WEIGHT) + account.total(Component.WEIGHT_SCALES),
            account.weightPoolBytes(),
            work.gradientBytes() + account.total(Component.ACCUMULATION),
            account.total(Component.M) + account.total(Component.M_SCALES),
            account.total(Component.V) + account.total(Component.V_SCALES),
            account.total(Component.BASIS) + account.projectionScratchBytes(),
            refresh,
            exchange,
            work.activationBytes(),
            data,
            runtime};
        Map<String, Long> c = new LinkedHashMap<>();
        for (int k = 0; k < bytes.length; k++) {
            c.put(COMPONENTS.get(k), bytes[k]);
        }
        return new MemoryEstimate(method, model, batch, seq, checkpointed, compute, Collections.unmodifiableMap(c),
                withCp.activationBytes(), without.activationBytes(), account.persistentBytesPerParameter(),
                (double) account.total(Component.ACCUMULATION) / account.elements());
    }

    /**
     * The transient bytes of the largest basis computation of any projected parameter; for an
     * APOLLO parameter (no SVD) its update's random projection and projected gradient.
     */
    private static long refreshBytes(OptimSettings optim, ModelConfig model) {
        long refresh = 0;
        for (Map.Entry<String, long[]> e : LlamaParameters.shapes(model).entrySet()) {
            ParamSettings p = optim.resolve(e.getKey(), e.getValue());
            if (p.apollo()) {
                refresh = Math.max(refresh, MemoryAccount.apolloUpdateBytes(p, e.getValue()));
            } else if (p.galore()) {
                refresh = Math.max(refresh, RefreshWorkspace.bytes(p.svd(), p.rank(), e.getValue()[0],
                        e.getValue()[1], p.side(), optim.svdOversampling(), optim.svdPowerIterations(), p.basisBits()));
            }
        }
        return refresh;
    }

    /** Corpus bytes plus 4 bytes per token; for the byte tokenizer one token per byte, for BPE at most that. */
    private static long dataBytes(ConfigTree tree) throws IOException {
        String path = tree.values().string("data.path", true);
        long bytes = Corpus.isDefault(path) ? DEFAULT_CORPUS_BYTES : Corpus.list(Path.of(path)).bytes();
        Tokenizer tokenizer = RunConfig.tokenizer(tree.values());
        return bytes + 4 * bytes / (tokenizer instanceof ByteTokenizer ? 1 : 2);
    }

    public long totalBytes() {
        return components.values().stream().mapToLong(Long::longValue).sum();
    }

    /** The estimate in the form summary.json records it ({@link #toMap()}'s fields, typed). */
    public Summary.Memory figures() {
        return RunJson.MAPPER.convertValue(toMap(), Summary.Memory.class);
    }

    /** The estimate as a JSON-ready map: method, model, batch, seq, every component, total_bytes. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("method", method);
        m.put("params", model.parameterCount());
        m.put("batch", batch);
        m.put("seq", seq);
        m.put("checkpoint_activations", checkpointed);
        components.forEach(m::put);
        m.put("activations_checkpointed", activationsCheckpointed);
        m.put("activations_full", activationsFull);
        m.put("persistent_bytes_per_param", persistentBytesPerParameter);
        m.put("accumulation_bytes_per_param", accumulationBytesPerParameter);
        m.put("total_bytes", totalBytes());
        return m;
    }
}
