package org.laplacelora.streams.refit;

import java.util.List;
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
import org.apache.avro.specific.SpecificRecord;
import org.laplacelora.schemas.avro.DriftEvent;
import org.laplacelora.schemas.avro.LabelledOutcome;
import org.laplacelora.schemas.avro.RefitReport;
import org.laplacelora.schemas.avro.RefitRequest;
import org.laplacelora.streams.config.Topics;
import org.laplacelora.streams.serde.AvroBinarySerde;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * labelled-outcomes + drift-events + refit-requests → (one partition: one buffer, one trigger state) →
 * posteriors (chunks, manifests, tombstones) and refit-reports.
 */
public final class RefitterTopology {
    public static final String BUFFER_STORE = "refitter-buffer";
    public static final String STATE_STORE = "refitter-state";
    private static final Logger LOG = LoggerFactory.getLogger(RefitterTopology.class);

    /** The serdes of the topics the refitter reads and writes. */
    public record RefitterSerdes(Deserializer<LabelledOutcome> outcomes, Deserializer<DriftEvent> drift,
                                 Deserializer<RefitRequest> requests, Serde<Object> posteriors, Serde<RefitReport> reports) {}

    private RefitterTopology() {}

    public static Topology build(Topics topics, RefitterSerdes serdes, Refitter refitter, RefitSettings settings) {
        StreamsBuilder b = new StreamsBuilder();
        b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(BUFFER_STORE), Serdes.String(), Serdes.ByteArray()));
        b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STATE_STORE), Serdes.String(), Serdes.ByteArray()));
        KStream<String, RefitInput> outcomes = onePartition(b, topics.labelledOutcomes(), "outcomes", serdes.outcomes(), LabelledOutcome.class)
                .mapValues(RefitInput::of);
        KStream<String, RefitInput> drift = onePartition(b, topics.driftEvents(), "drift", serdes.drift(), DriftEvent.class).mapValues(RefitInput::of);
        KStream<String, RefitInput> requests = onePartition(b, topics.refitRequests(), "requests", serdes.requests(), RefitRequest.class)
                .mapValues(RefitInput::of);
        Map<String, KStream<String, Object>> out = outcomes.merge(drift).merge(requests)
                .process(() -> new RefitProcessor(refitter, settings), Named.as("refit"), BUFFER_STORE, STATE_STORE)
                .split(Named.as("refitter-out-"))
                .branch((k, v) -> v instanceof RefitReport, Branched.as("reports"))
                .defaultBranch(Branched.as("posteriors"));   // chunks, manifests and tombstones
        out.get("refitter-out-reports").mapValues(v -> (RefitReport) v)
                .to(topics.refitReports(), Produced.with(Serdes.String(), serdes.reports()));
        out.get("refitter-out-posteriors")
                .to(topics.posteriors(), Produced.with(Serdes.String(), serdes.posteriors()));
        return b.build();
    }

    /** A topic's decoded records, all through one partition (whatever the topic's count), undecodable ones logged and skipped. */
    private static <T extends SpecificRecord> KStream<String, T> onePartition(StreamsBuilder b, String topic, String name,
                                                                       Deserializer<T> d, Class<T> type) {
        Serde<T> internal = AvroBinarySerde.of(type);
        return b.stream(topic, Consumed.with(Serdes.String(), Serdes.ByteArray()))
                .flatMapValues(v -> decoded(d, topic, v))
                .repartition(Repartitioned.with(Serdes.String(), internal).withName("refitter-" + name).withNumberOfPartitions(1));
    }

    private static <T> List<T> decoded(Deserializer<T> d, String topic, byte[] bytes) {
        try {
            T v = d.deserialize(topic, bytes);
            return v == null ? List.of() : List.of(v);
        } catch (SerializationException e) {
            LOG.warn("skipping an undecodable record on {}: {}", topic, e.getMessage());
            return List.of();
        }
    }
}
