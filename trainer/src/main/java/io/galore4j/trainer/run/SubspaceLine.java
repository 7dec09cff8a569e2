package io.galore4j.trainer.run;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.galore4j.projection.SubspaceStats;

/**
 * One line of {@code subspace.jsonl}: what one basis refresh of one layer measured
 * ({@link SubspaceStats}, whose fields these are). {@code cosine} and {@code overlap} are null at
 * a layer's first refresh.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonPropertyOrder({"step", "layer", "rank", "cosine", "overlap", "energy", "singular_values", "gap", "basis_ms"})
public record SubspaceLine(long step, String layer, int rank, Double cosine, Double overlap, double energy,
        double[] singularValues, long gap, double basisMs) {

    /** The line of {@code s}; its NaN cosine and overlap (no earlier basis) become null. */
    public static SubspaceLine of(SubspaceStats s) {
        return new SubspaceLine(s.step(), s.layer(), s.rank(), Double.isNaN(s.cosine()) ? null : s.cosine(),
                Double.isNaN(s.overlap()) ? null : s.overlap(), s.energy(), s.singularValues(), s.gap(),
                s.basisMillis());
    }
}
