package org.laplacelora.streams.calibrator;

import java.util.Map;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.Stores;
import org.laplacelora.schemas.avro.CalibrationMetrics;
import org.laplacelora.schemas.avro.CalibratorEvent;
import org.laplacelora.schemas.avro.DriftEvent;
import org.laplacelora.schemas.avro.Label;
import org.laplacelora.schemas.avro.LabelledOutcome;
import org.laplacelora.schemas.avro.Prediction;
import org.laplacelora.schemas.avro.Question;
import org.laplacelora.streams.config.Topics;
import org.laplacelora.streams.serde.AvroBinarySerde;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * questions + predictions + labels → (join by id) → one partition → calibration-metrics, drift-events,
 * labelled-outcomes. Records that cannot be decoded are logged and skipped (they cannot be joined).
 */
public final class CalibratorTopology {
    public static final String JOIN_STORE = "calibrator-join";
    public static final String STATE_STORE = "calibrator-state";
    private static final Logger LOG = LoggerFactory.getLogger(CalibratorTopology.class);

    /** The serdes of the topics the calibrator reads and writes. */
    public record CalibratorSerdes(Deserializer<Question> questions, Serde<Prediction> predictions, Serde<Label> labels,
                          Serde<CalibrationMetrics> metrics, Serde<DriftEvent> drift, Serde<LabelledOutcome> outcomes) {}

    private CalibratorTopology() {}

    public static Topology build(Topics topics, CalibratorSerdes serdes, CalibratorSettings settings) {
        StreamsBuilder b = new StreamsBuilder();
        b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(JOIN_STORE), Serdes.String(), Serdes.ByteArray()));
        b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STATE_STORE), Serdes.String(), Serdes.ByteArray()));
        // An undecodable question is the scorer's to report (it dead-letters it); here it only cannot be joined.
        KStream<String, JoinInput> questions = b.stream(topics.questions(), Consumed.with(Serdes.String(), Serdes.ByteArray()))
                .flatMapValues(v -> decoded(serdes.questions(), topics.questions(), v, false)).mapValues(JoinInput::of);
        KStream<String, JoinInput> predictions = b.stream(topics.predictions(), Consumed.with(Serdes.String(), Serdes.ByteArray()))
                .flatMapValues(v -> decoded(serdes.predictions().deserializer(), topics.predictions(), v, true)).mapValues(JoinInput::of);
        KStream<String, JoinInput> labels = b.stream(topics.labels(), Consumed.with(Serdes.String(), Serdes.ByteArray()))
                .flatMapValues(v -> decoded(serdes.labels().deserializer(), topics.labels(), v, true)).mapValues(JoinInput::of);
        Map<String, KStream<String, Object>> out = questions.merge(predictions).merge(labels)
                .process(() -> new JoinProcessor(settings.horizon()), Named.as("calibrator-join"), JOIN_STORE)
                .repartition(Repartitioned.<String, CalibratorEvent>with(Serdes.String(), AvroBinarySerde.of(CalibratorEvent.class))
                        .withName("calibrator-events").withNumberOfPartitions(1))
                .process(() -> new MetricsProcessor(settings), Named.as("calibrator-metrics"), STATE_STORE)
                .split(Named.as("calibrator-out-"))
                .branch((k, v) -> v instanceof CalibrationMetrics, Branched.as("metrics"))
                .branch((k, v) -> v instanceof DriftEvent, Branched.as("drift"))
                .branch((k, v) -> v instanceof LabelledOutcome, Branched.as("outcomes"))
                .noDefaultBranch();
        out.get("calibrator-out-metrics").mapValues(v -> (CalibrationMetrics) v)
                .to(topics.calibrationMetrics(), Produced.with(Serdes.String(), serdes.metrics()));
        out.get("calibrator-out-drift").mapValues(v -> (DriftEvent) v)
                .to(topics.driftEvents(), Produced.with(Serdes.String(), serdes.drift()));
        out.get("calibrator-out-outcomes").mapValues(v -> (LabelledOutcome) v)
                .to(topics.labelledOutcomes(), Produced.with(Serdes.String(), serdes.outcomes()));
        return b.build();
    }

    private static <T> java.util.List<T> decoded(Deserializer<T> d, String topic, byte[] bytes, boolean warn) {
        try {
            T v = d.deserialize(topic, bytes);
            return v == null ? java.util.List.of() : java.util.List.of(v);
        } catch (SerializationException e) {
            if (warn) {
                LOG.warn("skipping an undecodable record on {}: {}", topic, e.getMessage());
            } else {
                LOG.debug("skipping an undecodable record on {}: {}", topic, e.getMessage());
            }
            return java.util.List.of();
        }
    }
}
