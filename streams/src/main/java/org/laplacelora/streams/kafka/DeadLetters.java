package org.laplacelora.streams.kafka;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Arrays;
import org.laplacelora.schemas.avro.DeadLetter;

/**
 * Dead letters as every service writes them: the record's coordinates, reason and message, and at most the first
 * {@link #MAX_BYTES} of its key and value with the value's size, so that a record near the broker's size limit
 * (1 MB by default) still makes a dead letter that fits.
 */
public final class DeadLetters {
    public static final int MAX_BYTES = 64 * 1024;

    private DeadLetters() {}

    public static DeadLetter of(String topic, int partition, long offset, byte[] key, byte[] value, DeadLetterReason reason, String message) {
        return DeadLetter.newBuilder().setSourceTopic(topic).setPartition(partition).setOffset(offset).setKey(cut(key)).setValue(cut(value))
                .setValueSize(value == null ? null : (long) value.length).setReason(reason.name())
                .setMessage(message == null ? reason.name() : message).setFailedAt(Instant.now()).build();
    }

    private static ByteBuffer cut(byte[] bytes) {
        return bytes == null ? null : ByteBuffer.wrap(bytes.length <= MAX_BYTES ? bytes : Arrays.copyOf(bytes, MAX_BYTES));
    }
}
