package org.laplacelora.streams.refit;

import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.Stores;
import org.laplacelora.schemas.avro.DriftEvent;
import org.laplacelora.schemas.avro.LabelledOutcome;
import org.laplacelora.schemas.avro.RefitReport;
import org.laplacelora.schemas.avro.RefitRequest;
import org.laplacelora.schemas.state.RefitterState;
import org.laplacelora.streams.kafka.StateSerde;
import org.laplacelora.streams.kafka.Topic;
import org.laplacelora.streams.kafka.Topics;
import org.slf4j.event.Level;

/**
 * labelled-outcomes + drift-events + refit-requests → (one partition: one buffer, one trigger state) →
 * posteriors (chunks, manifests, tombstones) and refit-reports.
 */
public final class RefitterTopology {
    public static final String BUFFER_STORE = "refitter-buffer";
    public static final String STATE_STORE = "refitter-state";

    private RefitterTopology() {}

    public static Topology build(Topics topics, Refitter refitter, RefitterSettings settings) {
        StreamsBuilder b = new StreamsBuilder();
        b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(BUFFER_STORE), Serdes.String(),
                StateSerde.of(LabelledOutcome.class)));
        b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STATE_STORE), Serdes.String(),
                StateSerde.of(RefitterState.class)));
        KStream<String, SpecificRecord> outcomes = onePartition(b, topics.labelledOutcomes(), LabelledOutcome.class, "outcomes");
        KStream<String, SpecificRecord> drift = onePartition(b, topics.driftEvents(), DriftEvent.class, "drift");
        KStream<String, SpecificRecord> requests = onePartition(b, topics.refitRequests(), RefitRequest.class, "requests");
        Map<String, KStream<String, Object>> out = outcomes.merge(drift).merge(requests)
                .process(() -> new RefitProcessor(refitter, settings), Named.as("refit"), BUFFER_STORE, STATE_STORE)
                .split(Named.as("refitter-out-"))
                .branch((k, v) -> v instanceof RefitReport, Branched.as("reports"))
                .defaultBranch(Branched.as("posteriors"));   // chunks, manifests and tombstones
        out.get("refitter-out-reports").mapValues(v -> (RefitReport) v)
                .to(topics.refitReports().name(), topics.refitReports().produced());
        out.get("refitter-out-posteriors").mapValues(v -> (SpecificRecord) v)
                .to(topics.posteriors().name(), topics.posteriors().produced());
        return b.build();
    }

    /** A topic's decoded records, all through one partition (whatever the topic's count), undecodable ones logged and skipped. */
    private static <T extends SpecificRecord> KStream<String, SpecificRecord> onePartition(StreamsBuilder b, Topic<String, T> topic,
                                                                                           Class<T> type, String name) {
        return topic.streamDecoded(b, Level.WARN)
                .repartition(Repartitioned.with(Serdes.String(), StateSerde.of(type)).withName("refitter-" + name).withNumberOfPartitions(1))
                .mapValues(v -> v);
    }
}
