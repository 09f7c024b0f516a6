package org.laplacelora.streams.kafka;

import java.io.IOException;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.laplacelora.schemas.avro.PosteriorChunk;
import org.laplacelora.schemas.avro.PosteriorManifest;
import org.laplacelora.schemas.registry.SchemaRegistry;
import org.laplacelora.schemas.serde.ConfluentAvroSerde;

/**
 * The serde of the posteriors topic, which carries two record types, chunks and manifests, under
 * TopicRecordNameStrategy subjects; a value is decoded by the full name of the schema it was written with.
 * Null stays null (a tombstone).
 */
final class PosteriorRecords {
    private PosteriorRecords() {}

    static Serde<SpecificRecord> serde(SchemaRegistry registry) {
        ConfluentAvroSerde<PosteriorChunk> chunks = ConfluentAvroSerde.topicRecordValue(PosteriorChunk.class, registry);
        ConfluentAvroSerde<PosteriorManifest> manifests = ConfluentAvroSerde.topicRecordValue(PosteriorManifest.class, registry);
        Serializer<SpecificRecord> write = (topic, value) -> value == null ? null
                : value instanceof PosteriorManifest m ? manifests.serialize(topic, m) : chunks.serialize(topic, (PosteriorChunk) value);
        Deserializer<SpecificRecord> read = (topic, bytes) -> {
            if (bytes == null) {
                return null;
            }
            String type;
            try {
                type = registry.byId(ConfluentAvroSerde.schemaId(bytes)).getFullName();
            } catch (IOException e) {
                throw new SerializationException(topic + ": schema of a record not found: " + e.getMessage(), e);
            }
            if (type.equals(PosteriorManifest.getClassSchema().getFullName())) {
                return manifests.deserialize(topic, bytes);
            }
            if (type.equals(PosteriorChunk.getClassSchema().getFullName())) {
                return chunks.deserialize(topic, bytes);
            }
            throw new SerializationException(topic + ": unexpected record type " + type);
        };
        return Serdes.serdeFrom(write, read);
    }
}
