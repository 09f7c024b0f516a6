package org.laplacelora.streams.kafka;

import java.util.List;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Produced;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/** A topic tied to its serdes once, as Kafka Streams' microservices examples do it ({@code Schemas.Topics}). */
public record Topic<K, V>(String name, Serde<K> keySerde, Serde<V> valueSerde) {
    private static final Logger LOG = LoggerFactory.getLogger(Topic.class);

    public Consumed<K, V> consumed() {
        return Consumed.with(keySerde, valueSerde);
    }

    public Produced<K, V> produced() {
        return Produced.with(keySerde, valueSerde);
    }

    public byte[] serialize(V value) {
        return valueSerde.serializer().serialize(name, value);
    }

    /** A value read as raw bytes (null stays null). */
    public V deserialize(byte[] bytes) {
        return valueSerde.deserializer().deserialize(name, bytes);
    }

    /**
     * The topic's records with their values decoded here rather than by Kafka Streams, so that one that cannot
     * be decoded is logged at {@code level} and skipped instead of stopping the stream.
     */
    public KStream<K, V> streamDecoded(StreamsBuilder builder, Level level) {
        return builder.stream(name, Consumed.with(keySerde, Serdes.ByteArray())).flatMapValues(bytes -> {
            try {
                V v = deserialize(bytes);
                return v == null ? List.<V>of() : List.of(v);
            } catch (SerializationException e) {
                LOG.atLevel(level).log("skipping an undecodable record on {}: {}", name, e.getMessage());
                return List.<V>of();
            }
        });
    }

    /** A record of this topic with its value serialized, for a producer of raw bytes. */
    public ProducerRecord<String, byte[]> record(String key, V value) {
        return new ProducerRecord<>(name, key, serialize(value));
    }
}
