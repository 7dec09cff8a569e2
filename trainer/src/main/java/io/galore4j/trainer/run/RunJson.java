package io.galore4j.trainer.run;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import java.io.IOException;

/**
 * The JSON of the run files ({@link Summary}, {@link MetricsLine}, {@link SubspaceLine},
 * {@link TrainerState}): one mapper for the trainer that writes them and the commands that read
 * them back. Reading ignores fields a record does not name, so files written by a later version
 * (or an earlier one, with fields since dropped) still read.
 */
public final class RunJson {

    /** Writes one JSON value per line; reads any run file into its record. */
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private RunJson() {
    }

    /** Writes a non-finite double as JSON null (the files' "not measured" for a loss that overflowed). */
    public static final class NonFiniteAsNull extends JsonSerializer<Double> {
        @Override
        public void serialize(Double value, JsonGenerator gen, SerializerProvider serializers) throws IOException {
            if (value == null || !Double.isFinite(value)) {
                gen.writeNull();
            } else {
                gen.writeNumber(value);
            }
        }
    }
}
