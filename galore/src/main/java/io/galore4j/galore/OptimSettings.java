package io.galore4j.galore;

import io.galore4j.projection.BasisMethod;
import io.galore4j.projection.RefreshKind;
import io.galore4j.projection.RefreshPolicy;
import io.galore4j.projection.Side;
import io.galore4j.quant.CodecName;
import io.galore4j.quant.EnumKeys;
import io.galore4j.quant.Moment;
import io.galore4j.quant.Rounding;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The {@code optim} section: a method preset ({@link Presets}), global options on top of it, and
 * per-layer overrides {@code layers: [{match: REGEX, ...}]} where the first matching entry wins.
 * docs/configuration.md lists every key with its range and meaning; a layer entry may set
 * {@link #LAYER_KEYS} ({@code full_rank: true} among them). A null value means "the preset's".
 *
 * <p>The section is read once, by {@link #from}: every value is checked (an
 * IllegalArgumentException naming the key, {@code optim.rank} or
 * {@code optim.layers[0] (match 'x').rank}) and parsed into the typed {@link ParamSettings} of the
 * global options and of each layer entry, with enums for every choice; {@link #resolve} only picks
 * the record of a parameter and applies its shape. The section as given is kept for
 * {@link #toMap()}, which config.yaml and a checkpoint's fingerprint record value for value.
 */
public final class OptimSettings {
    /** Options a layer entry may override. */
    static final Set<String> LAYER_KEYS = Set.of("rank", "scale", "side", "svd", "refresh", "refresh_gap",
            "lazy_window", "lazy_threshold", "adaptive_high", "adaptive_low", "adaptive_growth", "min_gap",
            "max_gap", "on_refresh", "m_codec", "v_codec", "weights", "basis_bits", "weight_decay", "full_rank",
            "residual");
    private static final Set<String> GLOBAL_ONLY = Set.of("method", "rule", "lr", "beta1", "beta2", "eps",
            "momentum", "projection", "weights_scope", "weight_rounding", "svd_oversampling", "svd_power_iterations",
            "layers", "accumulation", "scaling");
    /**
     * The refresh-policy keys: the policies each applies to, its name among the projection
     * module's policy parameters ({@link RefreshPolicy#of(RefreshKind, Map)}), and its range.
     */
    private enum PolicyKey {
        LAZY_WINDOW("window", 1, Double.NaN, EnumSet.of(RefreshKind.LAZY, RefreshKind.LAZY_RESET)),
        LAZY_THRESHOLD("threshold", 0, 1, EnumSet.of(RefreshKind.LAZY, RefreshKind.LAZY_RESET)),
        ADAPTIVE_HIGH("highOverlap", 0, 1, EnumSet.of(RefreshKind.ADAPTIVE)),
        ADAPTIVE_LOW("lowOverlap", 0, 1, EnumSet.of(RefreshKind.ADAPTIVE)),
        ADAPTIVE_GROWTH("growth", 1, 1e6, EnumSet.of(RefreshKind.ADAPTIVE)),
        MIN_GAP("minGap", 1, Double.NaN, EnumSet.of(RefreshKind.ADAPTIVE)),
        MAX_GAP("maxGap", 1, Double.NaN, EnumSet.of(RefreshKind.LAZY_RESET, RefreshKind.ADAPTIVE));

        final String param;
        /** The least value; an integer key has no upper bound (NaN), a real one is in [lo, hi] ((lo, hi] for growth). */
        final double lo;
        final double hi;
        final Set<RefreshKind> policies;

        PolicyKey(String param, double lo, double hi, Set<RefreshKind> policies) {
            this.param = param;
            this.lo = lo;
            this.hi = hi;
            this.policies = policies;
        }

        String key() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        Object read(SettingsReader r) {
            if (Double.isNaN(hi)) {
                return r.integer(key(), (long) lo);
            }
            return r.real(key(), lo, hi, this == ADAPTIVE_GROWTH);
        }
    }

    private final Method method;
    /**
     * The options as given: the preset, then every non-null global key of the section, in that
     * order and with the values as written, which is what config.yaml and a checkpoint's
     * fingerprint record ({@link #toMap()}); everything the optimizer uses is read from it once,
     * into the typed fields below.
     */
    private final Map<String, Object> given;
    private final ParamSettings global;
    private final Pattern projection;
    /** The parameters the global {@code weights} applies to; all when the preset leaves it out. */
    private final WeightsScope weightsScope;
    private final int svdOversampling;
    private final int svdPowerIterations;
    private final List<LayerRule> layers;

    /**
     * One {@code optim.layers} entry: its regex, its keys as given, and the settings of the
     * parameters it matches (the global options with its keys on top).
     */
    private record LayerRule(int index, String match, Pattern pattern, Map<String, Object> overrides, boolean fullRank,
            ParamSettings settings) {
        String prefix() {
            return prefix(index, match);
        }

        static String prefix(int index, String match) {
            return "optim.layers[" + index + "] (match '" + match + "').";
        }

        boolean sets(String key) {
            return overrides.get(key) != null;
        }
    }

    private OptimSettings(Method method, Map<String, Object> given, Pattern projection, List<Map<String, Object>> rules,
            List<Pattern> patterns) {
        this.method = method;
        this.given = given;
        this.projection = projection;
        SettingsReader r = new SettingsReader(given, "optim.");
        // absent from the presets that store every weight alike, so their settings stay as they were
        this.weightsScope = r.has("weights_scope") ? r.choice("weights_scope", WeightsScope.class) : WeightsScope.ALL;
        this.global = parse(given, null, "optim.");
        this.svdOversampling = (int) r.integer("svd_oversampling", 0);
        this.svdPowerIterations = (int) r.integer("svd_power_iterations", 0);
        List<LayerRule> l = new ArrayList<>();
        for (int i = 0; i < rules.size(); i++) {
            Map<String, Object> o = rules.get(i);
            String match = patterns.get(i).pattern();
            boolean fullRank = o.get("full_rank") != null
                    && new SettingsReader(o, LayerRule.prefix(i, match)).bool("full_rank");
            l.add(new LayerRule(i, match, patterns.get(i), o, fullRank, parse(merged(o), match, LayerRule.prefix(i, match))));
        }
        this.layers = List.copyOf(l);
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
        Set<String> names = new TreeSet<>();
        for (Method m : Method.values()) {
            names.add(EnumKeys.key(m));
        }
        return Collections.unmodifiableSet(names);
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
        Method method = m == null ? Method.Q_GALORE : EnumKeys.find(List.of(Method.values()), m.toString());
        if (method == null) {
            throw new IllegalArgumentException("optim.method must be one of " + methods() + " (got " + m + ")");
        }
        Map<String, Object> given = Presets.of(method);
        for (Map.Entry<String, Object> e : user.entrySet()) {
            if (e.getValue() != null && !e.getKey().equals("method") && !e.getKey().equals("layers")) {
                given.put(e.getKey(), e.getValue());
            }
        }
        Pattern projection = projectionPattern(given);
        List<Pattern> patterns = new ArrayList<>();
        List<Map<String, Object>> rules = layerRules(user.get("layers"), patterns);
        return new OptimSettings(method, given, projection, rules, patterns);
    }

    /** The method's name ({@code q-galore}, …). */
    public String method() {
        return EnumKeys.key(method);
    }

    /** The peak learning rate η (preset or {@code optim.lr}). */
    public double lr() {
        return global.lr();
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
        boolean projected = projection != null && projection.matcher(name).matches();
        boolean galore = shape.length == 2 && projected && !(rule != null && rule.fullRank);
        ParamSettings p = (rule == null ? global : rule.settings).withGalore(galore);
        boolean inScope = rule != null && rule.sets("weights") || weightsScope == WeightsScope.ALL || projected;
        if (!inScope || shape.length != 2 && p.weights() == WeightStorage.INT8) { // norm weights and biases stay fp32 (tiny)
            p = p.withWeights(WeightStorage.FP32);
        }
        if (galore) {
            long min = Math.min(shape[0], shape[1]);
            if (p.rank() > min) {
                String prefix = rule == null || !rule.overrides.containsKey("rank") ? "optim." : rule.prefix();
                throw new IllegalArgumentException(prefix + "rank " + p.rank() + " exceeds min(m, n) = " + min
                        + " of " + name);
            }
        }
        return p;
    }

    private Map<String, Object> merged(Map<String, Object> overrides) {
        Map<String, Object> m = new LinkedHashMap<>(given);
        overrides.forEach((k, v) -> {
            if (v != null && !k.equals("full_rank")) {
                m.put(k, v);
            }
        });
        return m;
    }

    /** Reads every per-parameter option of {@code values} once, naming {@code prefix + key} in any error. */
    private static ParamSettings parse(Map<String, Object> values, String pattern, String prefix) {
        SettingsReader r = new SettingsReader(values, prefix);
        UpdateRule rule = r.choice("rule", UpdateRule.class);
        RefreshKind refresh = r.choice("refresh", RefreshKind.class);
        for (PolicyKey k : PolicyKey.values()) {
            if (r.has(k.key()) && !k.policies.contains(refresh)) {
                throw r.bad(k.key(), "applies to refresh " + String.join("|",
                        new TreeSet<>(k.policies.stream().map(EnumKeys::key).toList()))
                        + ", not to refresh " + EnumKeys.key(refresh));
            }
        }
        Map<String, Object> policy = new LinkedHashMap<>();
        policy.put("gap", r.integer("refresh_gap", 1));
        for (PolicyKey k : PolicyKey.values()) {
            if (r.has(k.key())) {
                policy.put(k.param, k.read(r));
            }
        }
        try { // the policy's own checks (e.g. min_gap <= refresh_gap <= max_gap) before any run starts
            RefreshPolicy.of(refresh, policy);
        } catch (IllegalArgumentException e) {
            throw r.bad("refresh", e.getMessage());
        }
        r.integer("svd_oversampling", 0);
        r.integer("svd_power_iterations", 0);
        long rank = r.integer("rank", 1);
        if (rank > Integer.MAX_VALUE) {
            throw r.bad("rank", "is too large");
        }
        // absent from the GaLore presets, as accumulation: their settings and checkpoints stay the same
        Scaling scaling = r.has("scaling") ? r.choice("scaling", Scaling.class) : Scaling.NONE;
        if (scaling != Scaling.NONE && refresh != RefreshKind.FIXED) {
            throw r.bad("refresh", "must be fixed with scaling " + EnumKeys.key(scaling)
                    + " (a random projection is redrawn every refresh_gap steps)");
        }
        int basisBits = (int) r.integer("basis_bits", 1);
        if (basisBits != 32 && basisBits != 4) {
            throw r.bad("basis_bits", "must be 32 or 4");
        }
        return new ParamSettings(pattern, false, rule, r.real("lr", 0, 10, true), r.fraction("beta1"),
                r.fraction("beta2"), r.real("eps", 0, 1, true), r.real("weight_decay", 0, 10, false),
                r.fraction("momentum"), (int) rank, r.real("scale", 0, 1e6, true), r.choice("side", Side.class),
                r.choice("svd", BasisMethod.class), refresh, policy, r.choice("on_refresh", OnRefresh.class),
                r.choice("m_codec", CodecName.of(Moment.FIRST)), r.choice("v_codec", CodecName.of(Moment.SECOND)),
                r.choice("weights", WeightStorage.class), r.choice("weight_rounding", Rounding.class), basisBits,
                // not in every preset, so that settings (and checkpoints) written before the key existed stay the same
                r.has("accumulation") ? r.choice("accumulation", AccumulationDtype.class) : AccumulationDtype.FP32,
                scaling,
                r.has("residual") ? r.choice("residual", Residual.class) : Residual.NONE); // as accumulation
    }

    /** Oversampling p and power iterations q of the randomized SVD (global options). */
    public int svdOversampling() {
        return svdOversampling;
    }

    public int svdPowerIterations() {
        return svdPowerIterations;
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

    /** The entries of {@code optim.layers} checked for their form, their keys as given; their regexes into {@code patterns}. */
    private static List<Map<String, Object>> layerRules(Object layers, List<Pattern> patterns) {
        List<Map<String, Object>> rules = new ArrayList<>();
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
            if (overrides.containsKey("full_rank")) {
                new SettingsReader(overrides, LayerRule.prefix(i, match.toString())).bool("full_rank");
            }
            rules.add(overrides);
            patterns.add(pattern);
        }
        return rules;
    }

    /** The resolved options as a map (for the run directory's record). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("method", method());
        m.putAll(given);
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
