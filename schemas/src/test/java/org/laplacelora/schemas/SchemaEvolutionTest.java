package org.laplacelora.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificData;
import org.junit.jupiter.api.Test;
import org.laplacelora.schemas.avro.CalibrationMetrics;
import org.laplacelora.schemas.avro.CalibratorEvent;
import org.laplacelora.schemas.avro.DeadLetter;
import org.laplacelora.schemas.avro.DriftEvent;
import org.laplacelora.schemas.avro.HeldOutMetrics;
import org.laplacelora.schemas.avro.Label;
import org.laplacelora.schemas.avro.LabelledOutcome;
import org.laplacelora.schemas.avro.PosteriorChunk;
import org.laplacelora.schemas.avro.PosteriorManifest;
import org.laplacelora.schemas.avro.Prediction;
import org.laplacelora.schemas.avro.Question;
import org.laplacelora.schemas.avro.RefitReport;
import org.laplacelora.schemas.avro.RefitRequest;
import org.laplacelora.schemas.avro.ReliabilityBin;
import org.laplacelora.schemas.registry.Compatibility;

/**
 * The contracts evolve BACKWARD-transitively (README): every current schema reads data written with each
 * released version in src/test/resources/history/&lt;Name&gt;/v&lt;N&gt;.avsc.
 */
class SchemaEvolutionTest {
    static final List<Class<?>> CONTRACTS = List.of(Question.class, Label.class, Prediction.class, ReliabilityBin.class,
            CalibrationMetrics.class, LabelledOutcome.class, DriftEvent.class, DeadLetter.class, HeldOutMetrics.class,
            PosteriorChunk.class, PosteriorManifest.class, RefitRequest.class, RefitReport.class, CalibratorEvent.class);

    private static List<Schema> history(String name) throws IOException {
        Path dir = Path.of("src/test/resources/history", name);
        List<Schema> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.sorted().toList()) {
                out.add(new Schema.Parser().parse(f.toFile()));
            }
        }
        return out;
    }

    @Test
    void everyContractReadsEveryReleasedVersion() throws Exception {
        for (Class<?> c : CONTRACTS) {
            Schema current = SpecificData.get().getSchema(c);
            List<Schema> released = history(c.getSimpleName());
            assertThat(released).as("released versions of %s", c.getSimpleName()).isNotEmpty();
            assertThat(Compatibility.BACKWARD_TRANSITIVE.allows(current, released)).as(c.getSimpleName()).isTrue();
        }
    }

    @Test
    void everyFieldHasADoc() {
        for (Class<?> c : CONTRACTS) {
            Schema s = SpecificData.get().getSchema(c);
            assertThat(s.getDoc()).as(c.getSimpleName()).isNotBlank();
            for (Schema.Field f : s.getFields()) {
                assertThat(f.doc()).as("%s.%s", c.getSimpleName(), f.name()).isNotBlank();
            }
        }
    }

    /** The check has teeth: the usual mistakes are refused. */
    @Test
    void breakingChangesAreDetected() throws Exception {
        Schema v1 = history("Label").get(0);
        String json = v1.toString();
        Schema addedWithoutDefault = new Schema.Parser().parse(json.replace("\"fields\":[",
                "\"fields\":[{\"name\":\"source\",\"type\":\"string\",\"doc\":\"x\"},"));
        Schema addedWithDefault = new Schema.Parser().parse(json.replace("\"fields\":[",
                "\"fields\":[{\"name\":\"source\",\"type\":\"string\",\"default\":\"\",\"doc\":\"x\"},"));
        Schema typeChanged = new Schema.Parser().parse(json.replace("{\"name\":\"label\",\"type\":\"int\"",
                "{\"name\":\"label\",\"type\":\"string\""));
        assertThat(Compatibility.BACKWARD.allows(addedWithoutDefault, List.of(v1))).isFalse();
        assertThat(Compatibility.BACKWARD.allows(addedWithDefault, List.of(v1))).isTrue();
        assertThat(Compatibility.BACKWARD.allows(typeChanged, List.of(v1))).isFalse();
        // dropping a field is BACKWARD (new readers ignore it) but not FORWARD (old readers need it)
        List<Schema.Field> kept = new ArrayList<>();
        for (Schema.Field f : v1.getFields()) {
            if (!f.name().equals("labelled_at")) {
                kept.add(new Schema.Field(f, f.schema()));
            }
        }
        Schema dropped = Schema.createRecord(v1.getName(), v1.getDoc(), v1.getNamespace(), false, kept);
        assertThat(dropped.getFields()).hasSize(2);
        assertThat(Compatibility.BACKWARD.allows(dropped, List.of(v1))).isTrue();
        assertThat(Compatibility.FORWARD.allows(dropped, List.of(v1))).isFalse();
        assertThat(Compatibility.FULL.allows(dropped, List.of(v1))).isFalse();
    }
}
