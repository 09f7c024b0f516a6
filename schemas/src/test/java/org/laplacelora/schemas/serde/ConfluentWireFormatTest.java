package org.laplacelora.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;
import org.laplacelora.schemas.avro.Label;
import org.laplacelora.schemas.avro.Question;
import org.laplacelora.schemas.registry.HttpSchemaRegistry;
import org.laplacelora.schemas.registry.InProcessSchemaRegistry;
import org.laplacelora.schemas.registry.RegistryConfig;
import org.laplacelora.schemas.registry.SchemaRegistry;

/**
 * Wire bytes against Confluent's documented format: magic byte 0, the schema id as a big-endian int32,
 * then the Avro binary encoding of the datum — built here independently with Avro's generic writer, as
 * Confluent's KafkaAvroSerializer builds them.
 */
class ConfluentWireFormatTest {
    private static Question question() {
        return Question.newBuilder().setId("q1").setTask("arc").setText("Why is the sky blue?")
                .setChoices(List.of("a", "b", "c", "d")).setProducedAt(Instant.ofEpochMilli(1_700_000_000_123L))
                .setAttributes(Map.of("source", "test")).build();
    }

    private static byte[] avroBinary(Schema schema, GenericRecord record) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder e = EncoderFactory.get().binaryEncoder(out, null);
        GenericData data = new GenericData();
        data.addLogicalTypeConversion(new org.apache.avro.data.TimeConversions.TimestampMillisConversion());
        new GenericDatumWriter<GenericRecord>(schema, data).write(record, e);
        e.flush();
        return out.toByteArray();
    }

    @Test
    void serializedBytesAreMagicIdAndAvroBinary() throws Exception {
        try (InProcessSchemaRegistry server = InProcessSchemaRegistry.start(0, null)) {
            SchemaRegistry registry = new HttpSchemaRegistry(RegistryConfig.of(server.url()));
            ConfluentAvroSerde<Label> serde = ConfluentAvroSerde.value(Label.class, registry);
            Label label = Label.newBuilder().setQuestionId("q7").setLabel(3).setLabelledAt(Instant.ofEpochMilli(1000)).build();
            byte[] bytes = serde.serializer().serialize("labels", label);
            int id = registry.lookup("labels-value", Label.getClassSchema());
            assertThat(bytes[0]).isEqualTo((byte) 0);
            assertThat(ByteBuffer.wrap(bytes, 1, 4).getInt()).isEqualTo(id);
            // Avro binary by hand: string = zigzag-varint length + UTF-8; int = zigzag varint; long (timestamp) = zigzag varint.
            byte[] expected = {0, 0, 0, 0, (byte) id, 4, 'q', '7', 6, (byte) 0xd0, 0x0f};
            assertThat(bytes).containsExactly(expected);
            assertThat(serde.deserializer().deserialize("labels", bytes)).isEqualTo(label);
        }
    }

    /** A record as Confluent's serializer writes it, with a writer schema older than ours (no attributes field). */
    @Test
    void readsRecordsWrittenByAConfluentProducerWithAnOlderSchema() throws Exception {
        Schema older = new Schema.Parser().parse(Question.getClassSchema().toString()
                .replaceAll(",\\{\"name\":\"attributes\".*?\\}\\}\\]", "]"));
        assertThat(older.getField("attributes")).isNull();
        try (InProcessSchemaRegistry server = InProcessSchemaRegistry.start(0, null)) {
            SchemaRegistry registry = new HttpSchemaRegistry(RegistryConfig.of(server.url()));
            int id = registry.register("questions-value", older);
            GenericRecord r = new GenericData.Record(older);
            r.put("id", "q9");
            r.put("task", "boolq");
            r.put("text", "is it?");
            r.put("choices", List.of());
            r.put("context", "a passage");
            r.put("prompt", null);
            r.put("answers", List.of());
            r.put("produced_at", 42L);
            byte[] datum = avroBinary(older, r);
            byte[] wire = ByteBuffer.allocate(5 + datum.length).put((byte) 0).putInt(id).put(datum).array();
            Question q = ConfluentAvroSerde.value(Question.class, registry).deserializer().deserialize("questions", wire);
            assertThat(q.getId()).isEqualTo("q9");
            assertThat(q.getContext()).isEqualTo("a passage");
            assertThat(q.getAttributes()).isEmpty();                // the reader's default
            assertThat(q.getProducedAt()).isEqualTo(Instant.ofEpochMilli(42));
            // and the bytes we write for the current schema decode with a plain Avro reader of that schema
            byte[] ours = ConfluentAvroSerde.value(Question.class, registry).serializer().serialize("questions", question());
            assertThat(java.util.Arrays.copyOfRange(ours, 5, ours.length))
                    .containsExactly(avroBinary(Question.getClassSchema(), question()));
        }
    }

    @Test
    void garbageIsRefusedWithTheReason() throws Exception {
        try (InProcessSchemaRegistry server = InProcessSchemaRegistry.start(0, null)) {
            SchemaRegistry registry = new HttpSchemaRegistry(RegistryConfig.of(server.url()));
            ConfluentAvroSerde<Question> serde = ConfluentAvroSerde.value(Question.class, registry);
            assertThatThrownBy(() -> serde.deserialize("questions", "{\"id\":1}".getBytes()))
                    .isInstanceOf(SerializationException.class).hasMessageContaining("magic byte 123");
            assertThatThrownBy(() -> serde.deserialize("questions", new byte[] {0, 0, 0, 0, 42, 1}))
                    .isInstanceOf(SerializationException.class).hasMessageContaining("no schema with id 42");
            assertThat(serde.deserialize("questions", null)).isNull();
        }
    }

    /**
     * A registry that is not there is a passing failure (retriable), never a reason to dead-letter; one that answers
     * "no such schema" is a definite one. Once it is back, the same bytes decode.
     */
    @Test
    void aRegistryOutOfReachIsRetriableAndAMissingSchemaIsNot() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        SchemaRegistry registry = new HttpSchemaRegistry(RegistryConfig.of("http://127.0.0.1:" + port));
        ConfluentAvroSerde<Question> serde = ConfluentAvroSerde.value(Question.class, registry);
        byte[] bytes;
        try (InProcessSchemaRegistry server = InProcessSchemaRegistry.start(port, null)) {
            bytes = serde.serialize("questions", Question.newBuilder().setId("q").setTask("generic").setText("")
                    .setProducedAt(java.time.Instant.now()).build());
        }
        // a new client and serde: nothing cached, as in a process started during the outage
        ConfluentAvroSerde<Question> fresh = ConfluentAvroSerde.value(Question.class,
                new HttpSchemaRegistry(RegistryConfig.of("http://127.0.0.1:" + port)));
        assertThatThrownBy(() -> fresh.deserialize("questions", bytes)).isInstanceOf(SchemaRegistryUnavailableException.class)
                .isInstanceOf(org.apache.kafka.common.errors.RetriableException.class).hasMessageContaining("cannot fetch schema id");
        assertThatThrownBy(() -> fresh.serialize("questions", Question.newBuilder().setId("r").setTask("generic").setText("")
                .setProducedAt(java.time.Instant.now()).build())).isInstanceOf(SchemaRegistryUnavailableException.class);
        try (InProcessSchemaRegistry server = InProcessSchemaRegistry.start(port, null)) {
            assertThatThrownBy(() -> fresh.deserialize("questions", new byte[] {0, 0, 0, 0, 42, 1}))
                    .isInstanceOf(SerializationException.class).isNotInstanceOf(SchemaRegistryUnavailableException.class);
        }
    }
}
