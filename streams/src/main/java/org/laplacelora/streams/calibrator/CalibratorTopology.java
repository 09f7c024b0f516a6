package org.laplacelora.streams.calibrator;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.Stores;
import org.laplacelora.model.laplace.predictive.Method;
import org.laplacelora.schemas.avro.CalibrationMetrics;
import org.laplacelora.schemas.avro.CalibratorEvent;
import org.laplacelora.schemas.avro.DeadLetter;
import org.apache.kafka.streams.kstream.Consumed;
import org.laplacelora.schemas.avro.DriftEvent;
import org.laplacelora.schemas.avro.LabelledOutcome;
import org.laplacelora.schemas.avro.Prediction;
import org.laplacelora.schemas.state.CalibratorState;
import org.laplacelora.schemas.state.JoinEntry;
import org.laplacelora.streams.kafka.StateSerde;
import org.laplacelora.streams.kafka.Topics;
import org.slf4j.event.Level;

/**
 * questions + predictions + labels → (join by id, one task per partition) → one partition (the merging step)
 * → calibration-metrics, drift-events, labelled-outcomes. Records that cannot be decoded are logged and
 * skipped (they cannot be joined); labels the join cannot use go to labels-dlq.
 */
public final class CalibratorTopology {
    public static final String JOIN_STORE = "calibrator-join";
    public static final String DEADLINE_STORE = "calibrator-join-deadlines";
    public static final String STATE_STORE = "calibrator-state";
    public static final String JOURNAL_STORE = "calibrator-journal";
    /** The methods the calibrator compares side by side: what every prediction carries. */
    public static final List<Method> METHODS = List.of(Method.LAPLACE, Method.TEMPERATURE, Method.MAP);

    private CalibratorTopology() {}

    public static Topology build(Topics topics, CalibratorSettings settings) {
        StreamsBuilder b = new StreamsBuilder();
        // Cached: a question's question, prediction and label usually come within one commit interval, and then
        // only the last of their entries reaches RocksDB and the changelog.
        b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(JOIN_STORE), Serdes.String(), StateSerde.of(JoinEntry.class))
                .withCachingEnabled());
        b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(DEADLINE_STORE), Serdes.String(), Serdes.String())
                .withCachingEnabled());
        b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STATE_STORE), Serdes.String(),
                StateSerde.of(CalibratorState.class)));
        b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(JOURNAL_STORE), Serdes.String(), Serdes.ByteArray())
                .withCachingEnabled());
        // An undecodable question is the scorer's to report (it dead-letters it); here it only cannot be joined.
        KStream<String, SpecificRecord> questions = topics.questions().streamDecoded(b, Level.DEBUG).mapValues(v -> v);
        KStream<String, SpecificRecord> predictions = topics.predictions().streamDecoded(b, Level.WARN).mapValues(v -> v);
        Map<String, KStream<String, Object>> labels = b.stream(topics.labels().name(), Consumed.with(Serdes.String(), Serdes.ByteArray()))
                .process(() -> new LabelCheck(topics.labels()), Named.as("calibrator-label-check"))
                .split(Named.as("calibrator-labels-"))
                .branch((k, v) -> v instanceof DeadLetter, Branched.as("rejected"))
                .defaultBranch(Branched.as("valid"));
        Map<String, KStream<String, Object>> joined = questions.merge(predictions)
                .merge(labels.get("calibrator-labels-valid").mapValues(v -> (SpecificRecord) v))
                .process(() -> new JoinProcessor(settings.horizon(), topics.labels()), Named.as("calibrator-join"), JOIN_STORE, DEADLINE_STORE)
                .split(Named.as("calibrator-joined-"))
                .branch((k, v) -> v instanceof DeadLetter, Branched.as("rejected"))
                .defaultBranch(Branched.as("events"));
        labels.get("calibrator-labels-rejected").merge(joined.get("calibrator-joined-rejected")).mapValues(v -> (DeadLetter) v)
                .to(topics.labelsDlq().name(), topics.labelsDlq().produced());
        // As bytes, which the merging step journals as they came (the same encoding as StateSerde.of(CalibratorEvent)).
        Serializer<CalibratorEvent> events = StateSerde.of(CalibratorEvent.class).serializer();
        Map<String, KStream<String, Object>> out = joined.get("calibrator-joined-events").mapValues(v -> events.serialize(null, (CalibratorEvent) v))
                .repartition(Repartitioned.<String, byte[]>with(Serdes.String(), Serdes.ByteArray())
                        .withName("calibrator-events").withNumberOfPartitions(1))
                .process(() -> new MetricsProcessor(settings), Named.as("calibrator-metrics"), STATE_STORE, JOURNAL_STORE)
                .split(Named.as("calibrator-out-"))
                .branch((k, v) -> v instanceof CalibrationMetrics, Branched.as("metrics"))
                .branch((k, v) -> v instanceof DriftEvent, Branched.as("drift"))
                .branch((k, v) -> v instanceof LabelledOutcome, Branched.as("outcomes"))
                .noDefaultBranch();
        out.get("calibrator-out-metrics").mapValues(v -> (CalibrationMetrics) v).peek((k, v) -> CalibratorMeters.record(v))
                .to(topics.calibrationMetrics().name(), topics.calibrationMetrics().produced());
        out.get("calibrator-out-drift").mapValues(v -> (DriftEvent) v).peek((k, v) -> CalibratorMeters.record(v))
                .to(topics.driftEvents().name(), topics.driftEvents().produced());
        out.get("calibrator-out-outcomes").mapValues(v -> (LabelledOutcome) v)
                .to(topics.labelledOutcomes().name(), topics.labelledOutcomes().produced());
        return b.build();
    }

    /** Each of {@link #METHODS}' top-1 confidence of a prediction, in that order (a loop: it runs twice per outcome). */
    static List<Double> confidences(Prediction p) {
        List<Double> out = new ArrayList<>(METHODS.size());
        for (Method m : METHODS) {
            double max = Double.NaN;
            for (double x : probabilities(p, m)) {
                max = Double.isNaN(max) ? x : Math.max(max, x);
            }
            out.add(max);
        }
        return out;
    }

    /** A prediction's probabilities under one of {@link #METHODS}. */
    public static double[] probabilities(Prediction p, Method method) {
        List<Double> v = switch (method) {
            case LAPLACE -> p.getLaplace();
            case TEMPERATURE -> p.getTemperature();
            case MAP -> p.getMap();
            case LLLA -> throw new IllegalArgumentException("predictions carry no last-layer Laplace probabilities");
        };
        double[] out = new double[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = v.get(i);
        }
        return out;
    }
}
