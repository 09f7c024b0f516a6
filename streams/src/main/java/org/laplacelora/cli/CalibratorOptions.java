package org.laplacelora.cli;

import java.time.Duration;
import org.apache.kafka.streams.Topology;
import org.laplacelora.schemas.avro.CalibrationMetrics;
import org.laplacelora.schemas.avro.DriftEvent;
import org.laplacelora.schemas.avro.Label;
import org.laplacelora.schemas.avro.LabelledOutcome;
import org.laplacelora.schemas.avro.Prediction;
import org.laplacelora.schemas.avro.Question;
import org.laplacelora.schemas.registry.SchemaRegistry;
import org.laplacelora.schemas.serde.ConfluentAvroSerde;
import org.laplacelora.streams.calibrator.CalibratorSettings;
import org.laplacelora.streams.calibrator.CalibratorTopology;
import org.laplacelora.streams.config.KafkaSettings;
import picocli.CommandLine.Option;

/** Windows, label horizon and drift detectors of the calibrator. */
final class CalibratorOptions {
    @Option(names = "--window-size", defaultValue = "100", paramLabel = "N",
            description = "Labelled outcomes per tumbling window. Default: ${DEFAULT-VALUE}.")
    int windowSize;

    @Option(names = "--label-horizon-ms", defaultValue = "600000", paramLabel = "MS",
            description = "How long a prediction waits for its label before it counts as missing (later labels count as late). Default: ${DEFAULT-VALUE}.")
    long horizonMs;

    @Option(names = "--drift-method", defaultValue = "laplace", paramLabel = "M",
            description = "Whose outcomes the drift detectors watch: laplace, temperature or map. Default: ${DEFAULT-VALUE}.")
    String driftMethod;

    @Option(names = "--page-hinkley-delta", defaultValue = "0.1", paramLabel = "NATS",
            description = "Page-Hinkley tolerance δ on per-example NLL. Default: ${DEFAULT-VALUE}.")
    double phDelta;

    @Option(names = "--page-hinkley-threshold", defaultValue = "25", paramLabel = "NATS",
            description = "Page-Hinkley alarm threshold λ. Default: ${DEFAULT-VALUE}.")
    double phThreshold;

    @Option(names = "--page-hinkley-min", defaultValue = "30", paramLabel = "N",
            description = "Outcomes before Page-Hinkley may fire. Default: ${DEFAULT-VALUE}.")
    int phMin;

    @Option(names = "--ece-rise", defaultValue = "0.15", paramLabel = "X",
            description = "A window's ECE this much above the version's first window fires (fraction). Default: ${DEFAULT-VALUE}.")
    double eceRise;

    CalibratorSettings settings() {
        return new CalibratorSettings(Duration.ofMillis(horizonMs), windowSize, phDelta, phThreshold, phMin, eceRise, driftMethod);
    }

    Topology topology(KafkaSettings kafka, SchemaRegistry registry) {
        return CalibratorTopology.build(kafka.topics(), new CalibratorTopology.CalibratorSerdes(
                ConfluentAvroSerde.value(Question.class, registry).deserializer(), ConfluentAvroSerde.value(Prediction.class, registry),
                ConfluentAvroSerde.value(Label.class, registry), ConfluentAvroSerde.value(CalibrationMetrics.class, registry),
                ConfluentAvroSerde.value(DriftEvent.class, registry), ConfluentAvroSerde.value(LabelledOutcome.class, registry)), settings());
    }
}
