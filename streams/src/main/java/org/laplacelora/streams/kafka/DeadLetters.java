package org.laplacelora.streams.kafka;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Arrays;
import io.micrometer.core.instrument.Counter;
import org.laplacelora.schemas.avro.DeadLetter;
import org.laplacelora.streams.telemetry.Telemetry;

/**
 * Dead letters as every service writes them: the record's coordinates, reason and message, and at most the first
 * {@link #MAX_BYTES} of its key and value with the value's size, so that a record near the broker's size limit
 * (1 MB by default) still makes a dead letter that fits.
 */
public final class DeadLetters {
    public static final int MAX_BYTES = 64 * 1024;
    static final int MAX_MESSAGE = 4 * 1024;

    private DeadLetters() {}

    /** The dead letter of one record; counted in {@code laplace_lora_dead_letters_total{topic, reason}}. */
    public static DeadLetter of(String topic, int partition, long offset, byte[] key, byte[] value, DeadLetterReason reason, String message) {
        Counter.builder(Telemetry.PREFIX + "dead_letters").description("Dead letters by input topic and reason").tag("topic", topic)
                .tag("reason", reason.name()).register(Telemetry.registry()).increment();
        return DeadLetter.newBuilder().setSourceTopic(topic).setPartition(partition).setOffset(offset).setKey(cut(key)).setValue(cut(value))
                .setValueSize(value == null ? null : (long) value.length).setReason(reason.name())
                .setMessage(message == null ? reason.name() : cut(message)).setFailedAt(Instant.now()).build();
    }

    /** Messages quote keys and ids, which may be as long as anyone made them. */
    private static String cut(String message) {
        return message.length() <= MAX_MESSAGE ? message : message.substring(0, MAX_MESSAGE) + "… (" + message.length() + " characters)";
    }

    private static ByteBuffer cut(byte[] bytes) {
        return bytes == null ? null : ByteBuffer.wrap(bytes.length <= MAX_BYTES ? bytes : Arrays.copyOf(bytes, MAX_BYTES));
    }
}
