package org.laplacelora.streams.scorer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.laplacelora.model.tasks.InvalidQuestionException;
import org.laplacelora.schemas.avro.DeadLetter;
import org.laplacelora.schemas.avro.Prediction;
import org.laplacelora.schemas.avro.Question;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Questions in, predictions or dead letters out. Valid questions wait in a changelogged store (keyed by
 * input offset, so in input order) until the micro-batch is full or its oldest question has waited
 * {@code maxWait}; then the batch is scored and removed in the same transaction as the predictions are
 * written, so under exactly-once a crash loses and doubles nothing. A record that cannot be scored goes
 * to the dead-letter sink with its reason and never stops the stream.
 */
final class ScoringProcessor implements Processor<String, byte[], String, Object> {
    private static final Logger LOG = LoggerFactory.getLogger(ScoringProcessor.class);

    private final QuestionScorer scorer;
    private final Deserializer<Question> questions;
    private final int maxBatch;
    private final Duration maxWait;
    private ProcessorContext<String, Object> context;
    private KeyValueStore<Long, byte[]> pending;
    /** Questions validated on arrival, by offset, so a batch need not decode and tokenize them again (after a restart it must). */
    private final java.util.Map<Long, QuestionScorer.Valid> validated = new java.util.HashMap<>();
    private int count;
    private long oldestArrival = Long.MAX_VALUE;

    ScoringProcessor(QuestionScorer scorer, Deserializer<Question> questions, int maxBatch, Duration maxWait) {
        this.scorer = scorer;
        this.questions = questions;
        this.maxBatch = maxBatch;
        this.maxWait = maxWait;
    }

    @Override
    public void init(ProcessorContext<String, Object> ctx) {
        this.context = ctx;
        this.pending = ctx.getStateStore(ScorerTopology.STORE);
        recount();
        long tick = Math.max(5, maxWait.toMillis() / 4);
        ctx.schedule(Duration.ofMillis(tick), PunctuationType.WALL_CLOCK_TIME, now -> {
            if (count == 0) {
                recount();   // cheap when empty; picks up entries restored from the changelog
            }
            if (count > 0 && now - oldestArrival >= maxWait.toMillis()) {
                flush();
            }
        });
    }

    /** Counts what the store holds (after a restart it holds what was buffered before the crash). */
    private void recount() {
        count = 0;
        oldestArrival = Long.MAX_VALUE;
        try (KeyValueIterator<Long, byte[]> it = pending.all()) {
            while (it.hasNext()) {
                count++;
                oldestArrival = Math.min(oldestArrival, PendingQuestion.decode(it.next().value).arrivedAt());
            }
        }
        if (count > 0) {
            LOG.info("{} buffered question(s) in the store of task {}", count, context.taskId());
        }
    }

    @Override
    public void process(Record<String, byte[]> record) {
        RecordMetadata meta = context.recordMetadata().orElseThrow();
        PendingQuestion p = new PendingQuestion(meta.topic(), meta.partition(), meta.offset(), context.currentSystemTimeMs(),
                record.key() == null ? null : record.key().getBytes(StandardCharsets.UTF_8), record.value());
        if (record.value() == null) {
            deadLetter(p, "UNDECODABLE", "null value (tombstone)");
            return;
        }
        Question q;
        try {
            q = questions.deserialize(meta.topic(), record.value());
        } catch (SerializationException e) {
            deadLetter(p, "UNDECODABLE", e.getMessage());
            return;
        }
        try {
            validated.put(meta.offset(), scorer.validate(q));
        } catch (InvalidQuestionException e) {
            deadLetter(p, e.reason().name(), e.getMessage());
            return;
        } catch (RuntimeException e) {
            deadLetter(p, "INTERNAL", String.valueOf(e));
            return;
        }
        pending.put(meta.offset(), p.encode());
        count++;
        oldestArrival = Math.min(oldestArrival, p.arrivedAt());
        if (count >= maxBatch) {
            flush();
        }
    }

    /** Scores everything buffered, in input order, in batches of at most maxBatch. */
    private void flush() {
        List<KeyValue<Long, byte[]>> all = new ArrayList<>();
        try (KeyValueIterator<Long, byte[]> it = pending.all()) {
            it.forEachRemaining(all::add);
        }
        for (int i = 0; i < all.size(); i += maxBatch) {
            List<PendingQuestion> batch = new ArrayList<>();
            for (KeyValue<Long, byte[]> kv : all.subList(i, Math.min(i + maxBatch, all.size()))) {
                batch.add(PendingQuestion.decode(kv.value));
            }
            scoreAndForward(batch);
            for (PendingQuestion p : batch) {
                pending.delete(p.offset());
            }
        }
        count = 0;
        oldestArrival = Long.MAX_VALUE;
    }

    private void scoreAndForward(List<PendingQuestion> batch) {
        List<QuestionScorer.Valid> valid = new ArrayList<>();
        for (PendingQuestion p : batch) {
            QuestionScorer.Valid v = validated.remove(p.offset());
            valid.add(v != null ? v : scorer.validate(questions.deserialize(p.topic(), p.value())));
        }
        long started = context.currentSystemTimeMs();
        try {
            forward(scorer.score(valid, started));
        } catch (RuntimeException e) {
            // Isolate what failed: score one at a time; a question that fails alone is dead-lettered.
            LOG.warn("a batch of {} failed ({}); scoring its questions one by one", batch.size(), e.toString());
            for (int i = 0; i < batch.size(); i++) {
                try {
                    forward(scorer.score(List.of(valid.get(i)), context.currentSystemTimeMs()));
                } catch (RuntimeException single) {
                    deadLetter(batch.get(i), "INTERNAL", String.valueOf(single));
                }
            }
        }
    }

    private void forward(List<Prediction> predictions) {
        long now = context.currentSystemTimeMs();
        for (Prediction p : predictions) {
            context.forward(new Record<>(p.getQuestionId(), (Object) p, now), ScorerTopology.PREDICTIONS_SINK);
        }
    }

    private void deadLetter(PendingQuestion p, String reason, String message) {
        DeadLetter d = DeadLetter.newBuilder()
                .setSourceTopic(p.topic())
                .setPartition(p.partition())
                .setOffset(p.offset())
                .setKey(p.key() == null ? null : java.nio.ByteBuffer.wrap(p.key()))
                .setValue(p.value() == null ? null : java.nio.ByteBuffer.wrap(p.value()))
                .setReason(reason)
                .setMessage(message == null ? reason : message)
                .setFailedAt(Instant.now())
                .build();
        String key = p.key() == null ? null : new String(p.key(), StandardCharsets.UTF_8);
        context.forward(new Record<>(key, (Object) d, context.currentSystemTimeMs()), ScorerTopology.DLQ_SINK);
    }
}
