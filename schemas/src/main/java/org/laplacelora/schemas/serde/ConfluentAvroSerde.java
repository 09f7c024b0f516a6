package org.laplacelora.schemas.serde;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;
import org.laplacelora.schemas.registry.SchemaRegistry;
import org.laplacelora.schemas.registry.SchemaRegistryException;

/**
 * Avro records in Confluent's wire format, so that Confluent's own KafkaAvroSerializer and
 * KafkaAvroDeserializer interoperate with these: byte 0 is the magic byte 0, bytes 1-4 the schema's
 * registry id (big-endian int32), the rest the Avro binary encoding of the record (no container header).
 * Subjects follow the default TopicNameStrategy ({@code <topic>-value} or {@code <topic>-key}), or
 * TopicRecordNameStrategy ({@code <topic>-<record full name>}) for a topic that carries several record
 * types. Reading resolves the writer's schema (fetched by id) against this class's schema, so evolved
 * schemas read.
 */
public final class ConfluentAvroSerde<T extends SpecificRecord> implements Serde<T> {
    public static final byte MAGIC = 0;

    private final Class<T> type;
    private final Schema schema;
    private final SchemaRegistry registry;
    private final boolean isKey;
    private final boolean autoRegister;
    private final boolean recordSubject;
    private final Map<String, Integer> ids = new ConcurrentHashMap<>();
    private final Map<Integer, DatumReader<T>> readers = new ConcurrentHashMap<>();

    /**
     * @param autoRegister register the schema on first write (Confluent's auto.register.schemas); otherwise it
     *     must already be registered under the subject
     */
    public ConfluentAvroSerde(Class<T> type, SchemaRegistry registry, boolean isKey, boolean autoRegister, boolean recordSubject) {
        this.type = type;
        this.schema = SpecificData.get().getSchema(type);
        this.registry = registry;
        this.isKey = isKey;
        this.autoRegister = autoRegister;
        this.recordSubject = recordSubject;
    }

    /** Values under the {@code <topic>-value} subject, registered on first write. */
    public static <T extends SpecificRecord> ConfluentAvroSerde<T> value(Class<T> type, SchemaRegistry registry) {
        return new ConfluentAvroSerde<>(type, registry, false, true, false);
    }

    /** Values under {@code <topic>-<record full name>}: one of several record types on a topic. */
    public static <T extends SpecificRecord> ConfluentAvroSerde<T> topicRecordValue(Class<T> type, SchemaRegistry registry) {
        return new ConfluentAvroSerde<>(type, registry, false, true, true);
    }

    public static String subject(String topic, boolean isKey) {
        return topic + (isKey ? "-key" : "-value");
    }

    /** The schema id of a record in the wire format (to tell which type a multi-type topic's record is). */
    public static int schemaId(byte[] bytes) {
        if (bytes == null || bytes.length < 5 || bytes[0] != MAGIC) {
            throw new SerializationException("not Confluent Avro wire format");
        }
        return ByteBuffer.wrap(bytes, 1, 4).getInt();
    }

    /**
     * The registry answered, and the answer is no: not found (404), incompatible (409), invalid (422). Anything else
     * (unreachable, 5xx, 401/403 of credentials that may be renewed, 408, 429) may pass, so the record must not be lost.
     */
    private static boolean definite(IOException e) {
        if (!(e instanceof SchemaRegistryException r)) {
            return false;
        }
        int status = SchemaRegistryException.httpStatus(r.errorCode());
        return status == 404 || status == 409 || status == 422;
    }

    public Schema schema() {
        return schema;
    }

    @Override
    public Serializer<T> serializer() {
        return this::serialize;
    }

    @Override
    public Deserializer<T> deserializer() {
        return this::deserialize;
    }

    public byte[] serialize(String topic, T record) {
        if (record == null) {
            return null;
        }
        String subject = recordSubject ? topic + "-" + schema.getFullName() : subject(topic, isKey);
        try {
            int id = ids.computeIfAbsent(subject, s -> {
                try {
                    return autoRegister ? registry.register(s, schema) : registry.lookup(s, schema);
                } catch (IOException e) {
                    String what = "schema registry: cannot get an id for " + type.getSimpleName() + " under subject " + s + ": " + e.getMessage();
                    throw definite(e) ? new SerializationException(what, e) : new SchemaRegistryUnavailableException(what, e);
                }
            });
            ByteArrayOutputStream out = new ByteArrayOutputStream(256);
            out.write(MAGIC);
            out.write(ByteBuffer.allocate(4).putInt(id).array());
            BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
            new SpecificDatumWriter<T>(schema).write(record, encoder);
            encoder.flush();
            return out.toByteArray();
        } catch (IOException | RuntimeException e) {
            if (e instanceof SerializationException || e instanceof SchemaRegistryUnavailableException) {
                throw (RuntimeException) e;
            }
            throw new SerializationException("cannot serialize " + type.getSimpleName() + " for topic " + topic + ": " + e.getMessage(), e);
        }
    }

    public T deserialize(String topic, byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        if (bytes.length < 5 || bytes[0] != MAGIC) {
            throw new SerializationException("topic " + topic + ": not Confluent Avro wire format ("
                    + (bytes.length < 5 ? bytes.length + " bytes" : "magic byte " + bytes[0]) + ")");
        }
        int id = ByteBuffer.wrap(bytes, 1, 4).getInt();
        try {
            DatumReader<T> reader = readers.computeIfAbsent(id, i -> {
                try {
                    return new SpecificDatumReader<>(registry.byId(i), schema);
                } catch (IOException e) {
                    if (definite(e)) {
                        throw new SerializationException("schema registry: no schema with id " + i + ": " + e.getMessage(), e);
                    }
                    throw new SchemaRegistryUnavailableException("schema registry: cannot fetch schema id " + i + " now: " + e.getMessage(), e);
                }
            });
            BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(bytes, 5, bytes.length - 5, null);
            T value = reader.read(null, decoder);
            if (!decoder.isEnd()) {
                throw new SerializationException("topic " + topic + ": " + (bytes.length - 5) + " bytes hold more than one "
                        + type.getSimpleName());
            }
            return value;
        } catch (IOException | RuntimeException e) {
            if (e instanceof SerializationException || e instanceof SchemaRegistryUnavailableException) {
                throw (RuntimeException) e;
            }
            throw new SerializationException("topic " + topic + ": cannot decode " + type.getSimpleName()
                    + " written with schema id " + id + ": " + e, e);
        }
    }
}
