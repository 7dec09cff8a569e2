package io.galore4j.galore;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The {@code optim} section: a method preset ({@link Presets}), global options on top of it, and
 * per-layer overrides {@code layers: [{match: REGEX, ...}]} where the first matching entry wins.
 *
 * <p>Keys (snake_case): {@code method}, {@code rule} (adamw|sgd|lion, the full-rank update rule),
 * {@code lr}, {@code beta1}, {@code beta2}, {@code eps}, {@code weight_decay}, {@code momentum}
 * (SGD), {@code projection} (regex over parameter names that get GaLore, or {@code none}),
 * {@code rank}, {@code scale} (α), {@code side} (std|reverse|left|right), {@code svd}
 * (exact|randomized|auto), {@code svd_oversampling}, {@code svd_power_iterations}, {@code refresh}
 * (fixed|lazy|lazy-reset|adaptive: lazy is Q-GaLore's rule as its reference runs it, lazy-reset
 * this project's variant, see the projection module's RefreshPolicy), {@code refresh_gap} (T, all
 * policies), {@code lazy_window}, {@code lazy_threshold} (lazy, lazy-reset), {@code adaptive_high},
 * {@code adaptive_low}, {@code adaptive_growth}, {@code min_gap} (adaptive), {@code max_gap}
 * (lazy-reset, adaptive),
 * {@code on_refresh} (keep|rotate), {@code m_codec}, {@code v_codec}, {@code weights}
 * (fp32|int8|split), {@code weights_scope} (all|projection: the parameters {@code weights} applies
 * to, every one or only those {@code projection} matches; the others stay fp32; all when a preset
 * leaves it out), {@code weight_rounding} (stochastic|nearest, for INT8 weights),
 * {@code basis_bits} (32|4), {@code accumulation} (fp32|bf16, the storage of accumulated micro-batch gradients; fp32 when a
 * preset leaves it out), {@code layers}. A layer entry may set {@link #LAYER_KEYS} plus
 * {@code full_rank: true}. A null value means "the preset's".
 */
public final class OptimSettings {
    /** Options a layer entry may override. */
    static final Set<String> LAYER_KEYS = Set.of("rank", "scale", "side", "svd", "refresh", "refresh_gap",
            "lazy_window", "lazy_threshold", "adaptive_high", "adaptive_low", "adaptive_growth", "min_gap",
            "max_gap", "on_refresh", "m_codec", "v_codec", "weights", "basis_bits", "weight_decay", "full_rank");
    private static final Set<String> GLOBAL_ONLY = Set.of("method", "rule", "lr", "beta1", "beta2", "eps",
            "momentum", "projection", "weights_scope", "weight_rounding", "svd_oversampling", "svd_power_iterations",
            "layers", "accumulation");
    /** Weight storages: fp32, INT8 groups of 256 ({@link Int8Weight}), bf16 + int8 correction ({@link SplitWeight}). */
    static final Set<String> WEIGHTS = Set.of("fp32", "int8", "split");
    /** First-moment codecs (quant's StateCodec names) and second-moment codecs. */
    static final Set<String> M_CODECS = Set.of("fp32", "dynamic8", "de4", "signed2", "signed3", "softsign8");
    static final Set<String> V_CODECS = Set.of("fp32", "dynamic8", "linear4nz", "linear4nz-rank1", "log2", "log3", "sqrt8");
    /** Refresh-policy keys and the policies they belong to. */
    private static final Map<String, Set<String>> POLICY_KEYS = Map.of("lazy_window", Set.of("lazy", "lazy-reset"),
            "lazy_threshold", Set.of("lazy", "lazy-reset"), "adaptive_high", Set.of("adaptive"), "adaptive_low",
            Set.of("adaptive"), "adaptive_growth", Set.of("adaptive"), "min_gap", Set.of("adaptive"),
            "max_gap", Set.of("lazy-reset", "adaptive"));

    private final String method;
    private final Map<String, Object> global;
    private final Pattern projection;
    private final List<LayerRule> layers;
    /** Whether the global {@code weights} applies only to the parameters {@code projection} matches. */
    private final boolean weightsOnProjection;

    private record LayerRule(int index, String match, Pattern pattern, Map<String, Object> overrides) {
        String prefix() {
            return "optim.layers[" + index + "] (match '" + match + "').";
        }
    }

    private OptimSettings(String method, Map<String, Object> global, Pattern projection, List<LayerRule> layers) {
        this.method = method;
        this.global = global;
        this.projection = projection;
        this.layers = layers;
        // absent from the presets that store every weight alike, so their settings stay as they were
        this.weightsOnProjection = global.get("weights_scope") != null && new SettingsReader(global, "optim.")
                .choice("weights_scope", Set.of("all", "projection")).equals("projection");
    }

    /** Every key accepted at the top of the {@code optim} section. */
    public static Set<String> keys() {
        Set<String> all = new TreeSet<>(GLOBAL_ONLY);
        all.addAll(LAYER_KEYS);
        all.remove("full_rank");
        return Collections.unmodifiableSet(all);
    }

    /** Every key accepted in an {@code optim.layers} entry besides {@code match}. */
    public static Set<String> layerKeys() {
        return Collections.unmodifiableSet(new TreeSet<>(LAYER_KEYS));
    }

    /** The method names (presets). */
    public static Set<String> methods() {
        return Collections.unmodifiableSet(new TreeSet<>(Presets.METHODS));
    }

    /** The preset of {@code method} with nothing overridden. */
    public static OptimSettings preset(String method) {
        return from(Map.of("method", method));
    }

    /** Reads and validates the {@code optim} section (method defaults to q-galore). */
    public static OptimSettings from(Map<String, Object> section) {
        Map<String, Object> user = section == null ? Map.of() : section;
        for (String key : user.keySet()) {
            if (!keys().contains(key)) {
                throw new IllegalArgumentException("unknown key optim." + key);
            }
        }
        Object m = user.get("method");
        String method = m == null ? "q-galore" : m.toString().trim().toLowerCase(Locale.ROOT);
        Map<String, Object> global = Presets.of(method);
        if (global == null) {
            throw new IllegalArgumentException("optim.method must be one of " + methods() + " (got " + m + ")");
        }
        for (Map.Entry<String, Object> e : user.entrySet()) {
            if (e.getValue() != null && !e.getKey().equals("method") && !e.getKey().equals("layers")) {
                global.put(e.getKey(), e.getValue());
            }
        }
        Pattern projection = projectionPattern(global);
        List<LayerRule> layers = layerRules(user.get("layers"));
        OptimSettings s = new OptimSettings(method, global, projection, layers);
        s.parse(global, null, "optim.", false);
        for (LayerRule rule : layers) {
            s.parse(s.merged(rule), rule.match, rule.prefix(), false);
        }
        return s;
    }

    public String method() {
        return method;
    }

    /** The peak learning rate η (preset or {@code optim.lr}). */
    public double lr() {
        return ((Number) global.get("lr")).doubleValue();
    }

    /**
     * The effective settings of a parameter of this shape. GaLore applies to 2-D parameters whose
     * name matches {@code projection}, unless the first matching layer entry says
     * {@code full_rank: true}. The global {@code weights} applies to every parameter, or with
     * {@code weights_scope: projection} only to those whose name matches {@code projection} (GaLore
     * or not), the others staying fp32; a layer entry's own {@code weights} applies to the
     * parameters it matches either way. {@code weights: int8} applies to 2-D parameters; 1-D ones
     * (norm weights) stay fp32. {@code weights: split} has no groups and applies to every parameter.
     *
     * @throws IllegalArgumentException naming the parameter if its rank exceeds min(m, n)
     */
    public ParamSettings resolve(String name, long[] shape) {
        LayerRule rule = null;
        for (LayerRule r : layers) {
            if (r.pattern.matcher(name).matches()) {
                rule = r;
                break;
            }
        }
        Map<String, Object> values = rule == null ? global : merged(rule);
        boolean fullRank = rule != null && rule.overrides.get("full_rank") != null
                && new SettingsReader(rule.overrides, rule.prefix()).bool("full_rank");
        boolean galore = shape.length == 2 && projection != null && projection.matcher(name).matches() && !fullRank;
        String prefix = rule == null || !rule.overrides.containsKey("rank") ? "optim." : rule.prefix();
        ParamSettings p = parse(values, rule == null ? null : rule.match, prefix, galore);
        boolean ownWeights = rule != null && rule.overrides.get("weights") != null;
        boolean inScope = ownWeights || !weightsOnProjection || projection != null && projection.matcher(name).matches();
        if (!inScope || shape.length != 2 && p.weights().equals("int8")) { // norm weights and biases stay fp32 (tiny)
            p = p.withWeights("fp32");
        }
        if (galore) {
            long min = Math.min(shape[0], shape[1]);
            if (p.rank() > min) {
                throw new IllegalArgumentException(prefix + "rank " + p.rank() + " exceeds min(m, n) = " + min
                        + " of " + name);
            }
        }
        return p;
    }

    private Map<String, Object> merged(LayerRule rule) {
        Map<String, Object> m = new LinkedHashMap<>(global);
        rule.overrides.forEach((k, v) -> {
            if (v != null && !k.equals("full_rank")) {
                m.put(k, v);
            }
        });
        return m;
    }

    private ParamSettings parse(Map<String, Object> values, String pattern, String prefix, boolean galore) {
        SettingsReader r = new SettingsReader(values, prefix);
        String rule = r.choice("rule", Set.of("adamw", "sgd", "lion"));
        String refresh = r.choice("refresh", Set.of("fixed", "lazy", "lazy-reset", "adaptive"));
        Map<String, Object> policy = new LinkedHashMap<>();
        policy.put("gap", r.integer("refresh_gap", 1));
        for (Map.Entry<String, Set<String>> e : POLICY_KEYS.entrySet()) {
            if (r.has(e.getKey()) && !e.getValue().contains(refresh)) {
                throw r.bad(e.getKey(), "applies to refresh " + String.join("|", new TreeSet<>(e.getValue()))
                        + ", not to refresh " + refresh);
            }
        }
        if (r.has("lazy_window")) {
            policy.put("window", r.integer("lazy_window", 1));
        }
        if (r.has("lazy_threshold")) {
            policy.put("threshold", r.real("lazy_threshold", 0, 1, false));
        }
        if (r.has("adaptive_high")) {
            policy.put("highOverlap", r.real("adaptive_high", 0, 1, false));
        }
        if (r.has("adaptive_low")) {
            policy.put("lowOverlap", r.real("adaptive_low", 0, 1, false));
        }
        if (r.has("adaptive_growth")) {
            policy.put("growth", r.real("adaptive_growth", 1, 1e6, true));
        }
        if (r.has("min_gap")) {
            policy.put("minGap", r.integer("min_gap", 1));
        }
        if (r.has("max_gap")) {
            policy.put("maxGap", r.integer("max_gap", 1));
        }
        try { // the policy's own checks (e.g. min_gap <= refresh_gap <= max_gap) before any run starts
            io.galore4j.projection.RefreshPolicy.of(refresh, policy);
        } catch (IllegalArgumentException e) {
            throw r.bad("refresh", e.getMessage());
        }
        r.integer("svd_oversampling", 0);
        r.integer("svd_power_iterations", 0);
        long rank = r.integer("rank", 1);
        if (rank > Integer.MAX_VALUE) {
            throw r.bad("rank", "is too large");
        }
        int basisBits = (int) r.integer("basis_bits", 1);
        if (basisBits != 32 && basisBits != 4) {
            throw r.bad("basis_bits", "must be 32 or 4");
        }
        return new ParamSettings(pattern, galore, rule, r.real("lr", 0, 10, true), r.fraction("beta1"),
                r.fraction("beta2"), r.real("eps", 0, 1, true), r.real("weight_decay", 0, 10, false),
                r.fraction("momentum"), (int) rank, r.real("scale", 0, 1e6, true),
                r.choice("side", Set.of("std", "reverse", "left", "right")),
                r.choice("svd", Set.of("exact", "randomized", "auto")), refresh, policy,
                r.choice("on_refresh", Set.of("keep", "rotate")), r.choice("m_codec", M_CODECS),
                r.choice("v_codec", V_CODECS), r.choice("weights", WEIGHTS),
                r.choice("weight_rounding", Set.of("stochastic", "nearest")), basisBits,
                // not in every preset, so that settings (and checkpoints) written before the key existed stay the same
                r.has("accumulation") ? r.choice("accumulation", Accumulation.DTYPES) : "fp32");
    }

    /** Oversampling p and power iterations q of the randomized SVD (global options). */
    public int svdOversampling() {
        return ((Number) global.get("svd_oversampling")).intValue();
    }

    public int svdPowerIterations() {
        return ((Number) global.get("svd_power_iterations")).intValue();
    }

    private static Pattern projectionPattern(Map<String, Object> global) {
        String p = String.valueOf(global.get("projection")).trim();
        if (p.isEmpty() || p.equalsIgnoreCase("none")) {
            return null;
        }
        try {
            return Pattern.compile(p);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("optim.projection is not a valid regex (got " + p + "): "
                    + e.getDescription());
        }
    }

    private static List<LayerRule> layerRules(Object layers) {
        List<LayerRule> rules = new ArrayList<>();
        if (layers == null) {
            return rules;
        }
        if (!(layers instanceof List<?> list)) {
            throw new IllegalArgumentException("optim.layers must be a list of {match: REGEX, ...} (got " + layers + ")");
        }
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Map<?, ?> entry)) {
                throw new IllegalArgumentException("optim.layers[" + i + "] must be a mapping {match: REGEX, ...} (got "
                        + list.get(i) + ")");
            }
            Object match = entry.get("match");
            if (match == null) {
                throw new IllegalArgumentException("optim.layers[" + i + "] has no match (a regex over parameter names)");
            }
            Pattern pattern;
            try {
                pattern = Pattern.compile(match.toString());
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("optim.layers[" + i + "].match is not a valid regex (got " + match
                        + "): " + e.getDescription());
            }
            Map<String, Object> overrides = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : entry.entrySet()) {
                String key = String.valueOf(e.getKey());
                if (key.equals("match")) {
                    continue;
                }
                if (!LAYER_KEYS.contains(key)) {
                    throw new IllegalArgumentException("optim.layers[" + i + "] (match '" + match + "'): unknown key "
                            + key + (GLOBAL_ONLY.contains(key) ? " (a global option, not per layer)" : "")
                            + "; per-layer keys are " + layerKeys());
                }
                overrides.put(key, e.getValue());
            }
            LayerRule rule = new LayerRule(i, match.toString(), pattern, overrides);
            if (overrides.containsKey("full_rank")) {
                new SettingsReader(overrides, rule.prefix()).bool("full_rank");
            }
            rules.add(rule);
        }
        return rules;
    }

    /** The resolved options as a map (for the run directory's record). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("method", method);
        m.putAll(global);
        List<Map<String, Object>> l = new ArrayList<>();
        for (LayerRule r : layers) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("match", r.match);
            e.putAll(r.overrides);
            l.add(e);
        }
        m.put("layers", l);
        return m;
    }

    @Override
    public String toString() {
        return "OptimSettings" + toMap();
    }
}
