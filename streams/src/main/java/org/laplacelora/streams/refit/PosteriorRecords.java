package org.laplacelora.streams.refit;

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

/** Reading and writing the posteriors topic, which carries chunks and manifests (TopicRecordNameStrategy subjects). */
public final class PosteriorRecords {
    private final SchemaRegistry registry;
    private final ConfluentAvroSerde<PosteriorChunk> chunks;
    private final ConfluentAvroSerde<PosteriorManifest> manifests;

    public PosteriorRecords(SchemaRegistry registry) {
        this.registry = registry;
        this.chunks = ConfluentAvroSerde.topicRecordValue(PosteriorChunk.class, registry);
        this.manifests = ConfluentAvroSerde.topicRecordValue(PosteriorManifest.class, registry);
    }

    /** A chunk or a manifest, by the full name of the schema the record was written with. */
    public SpecificRecord decode(String topic, byte[] bytes) throws IOException {
        String type = registry.byId(ConfluentAvroSerde.schemaId(bytes)).getFullName();
        if (type.equals(PosteriorManifest.getClassSchema().getFullName())) {
            return manifests.deserialize(topic, bytes);
        }
        if (type.equals(PosteriorChunk.getClassSchema().getFullName())) {
            return chunks.deserialize(topic, bytes);
        }
        throw new IOException(topic + ": unexpected record type " + type);
    }

    /** Either type (null stays null: a tombstone). */
    public Serde<Object> serde() {
        Serializer<Object> write = (topic, value) -> value == null ? null
                : value instanceof PosteriorManifest m ? manifests.serialize(topic, m) : chunks.serialize(topic, (PosteriorChunk) value);
        Deserializer<Object> read = (topic, bytes) -> {
            try {
                return bytes == null ? null : decode(topic, bytes);
            } catch (IOException e) {
                throw new SerializationException(e.getMessage(), e);
            }
        };
        return Serdes.serdeFrom(write, read);
    }
}
