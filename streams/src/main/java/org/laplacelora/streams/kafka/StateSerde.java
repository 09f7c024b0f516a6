package org.laplacelora.streams.kafka;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.message.BadHeaderException;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * Avro records in an application's own state stores and internal topics, which no registry knows: Avro's
 * single-object encoding, whose header (a marker and the fingerprint of the writer's schema) lets state
 * written by an older version of the app — or by the hand-made codecs before these records — be recognised
 * and refused with {@link StaleStateException}, never decoded into garbage.
 */
public final class StateSerde {
    private StateSerde() {}

    public static <T extends SpecificRecord> Serde<T> of(Class<T> type) {
        org.apache.avro.Schema schema = SpecificData.get().getSchema(type);
        BinaryMessageEncoder<T> encoder = new BinaryMessageEncoder<>(SpecificData.get(), schema);
        BinaryMessageDecoder<T> decoder = new BinaryMessageDecoder<>(SpecificData.get(), schema);
        return Serdes.serdeFrom((topic, value) -> value == null ? null : encode(encoder, value), (topic, bytes) -> {
            if (bytes == null) {
                return null;
            }
            try {
                return decoder.decode(bytes);
            } catch (BadHeaderException | MissingSchemaException e) {
                throw new StaleStateException(schema.getName(), topic, e);
            } catch (IOException | AvroRuntimeException e) {
                throw new SerializationException("state record " + schema.getName() + (topic == null ? "" : " on " + topic)
                        + " could not be decoded: " + e.getMessage(), e);
            }
        });
    }

    private static <T> byte[] encode(BinaryMessageEncoder<T> encoder, T value) {
        try {
            ByteBuffer b = encoder.encode(value);
            byte[] out = new byte[b.remaining()];
            b.get(out);
            return out;
        } catch (IOException e) {
            throw new SerializationException(e.getMessage(), e);
        }
    }
}
