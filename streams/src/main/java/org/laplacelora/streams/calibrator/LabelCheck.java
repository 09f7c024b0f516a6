package org.laplacelora.streams.calibrator;

import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.streams.processor.api.ContextualProcessor;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.laplacelora.schemas.avro.Label;
import org.laplacelora.streams.kafka.DeadLetterReason;
import org.laplacelora.streams.kafka.DeadLetters;
import org.laplacelora.streams.kafka.Topic;

/**
 * What can be told of a label alone: it decodes (Avro of the label schema, by a schema id the registry has), its
 * key is its question id, its index is not negative. Anything else becomes a dead letter for labels-dlq; the join
 * checks the rest (the index against the question's choices, duplicates, a question never predicted).
 */
final class LabelCheck extends ContextualProcessor<String, byte[], String, Object> {
    private final Topic<String, Label> labels;

    LabelCheck(Topic<String, Label> labels) {
        this.labels = labels;
    }

    @Override
    public void process(Record<String, byte[]> r) {
        Label label;
        try {
            label = r.value() == null ? null : labels.deserialize(r.value());
        } catch (SerializationException e) {
            reject(r, DeadLetterReason.UNDECODABLE, e.getMessage());
            return;
        }
        if (label == null) {
            reject(r, DeadLetterReason.UNDECODABLE, "null value (tombstone)");
        } else if (!label.getQuestionId().equals(r.key())) {
            reject(r, DeadLetterReason.KEY_MISMATCH, "key " + r.key() + " but question id " + label.getQuestionId()
                    + " (labels are keyed by their question's id)");
        } else if (label.getLabel() < 0) {
            reject(r, DeadLetterReason.LABEL_OUT_OF_RANGE, "label " + label.getLabel() + " is negative");
        } else {
            context().forward(r.withValue((Object) label));
        }
    }

    private void reject(Record<String, byte[]> r, DeadLetterReason reason, String message) {
        RecordMetadata meta = context().recordMetadata().orElseThrow();
        byte[] key = r.key() == null ? null : r.key().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        context().forward(r.withValue((Object) DeadLetters.of(meta.topic(), meta.partition(), meta.offset(), key, r.value(), reason, message)));
    }
}
