package org.laplacelora.streams.scorer;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.ContextualProcessor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;
import org.laplacelora.streams.kafka.DeadLetterReason;
import org.laplacelora.streams.kafka.DeadLetters;
import org.laplacelora.model.tasks.InvalidQuestionException;
import org.laplacelora.schemas.avro.DeadLetter;
import org.laplacelora.schemas.avro.Prediction;
import org.laplacelora.schemas.avro.Question;
import org.laplacelora.schemas.state.PendingQuestion;
import org.laplacelora.streams.kafka.Topic;
import org.laplacelora.streams.posteriors.ServedModel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Questions in, predictions or dead letters out. Valid questions wait in a changelogged store (keyed by
 * input offset, so in input order) until the micro-batch is full or its oldest question has waited
 * {@code maxWait}. A batch is then handed to the scoring thread, which works through up to
 * {@code scoreAhead} of them while the stream thread goes on polling, buffering and committing; the
 * stream thread forwards each batch's predictions, in order, and removes its questions from the store in
 * the same transaction, so under exactly-once a crash loses and doubles nothing: what was buffered or
 * being scored is still in the store and is scored again. The stream thread never waits for a batch: when
 * {@code scoreAhead} batches are out, new questions wait in the store (on disk; only their offsets are held
 * in memory) until one comes back, so that no transaction stays open while a batch is scored, however slow
 * the model. With {@code scoreAhead} 0 batches are scored on the stream thread itself, inside the
 * transaction, which then must not time out. A record that cannot be scored goes to the dead-letter sink
 * with its reason and never stops the stream.
 */
final class ScoringProcessor extends ContextualProcessor<String, byte[], String, Object> {
    private static final Logger LOG = LoggerFactory.getLogger(ScoringProcessor.class);
    private static final Duration TICK = Duration.ofMillis(10);
    /** Longer ids are dead-lettered: a prediction carries its id twice (key and field), and must fit under the broker's limit. */
    static final int MAX_ID_BYTES = 1024;

    private final QuestionScorer scorer;
    private final BatchScoring model;
    private final Topic<String, Question> questions;
    private final int maxBatch;
    private final Duration maxWait;
    private final int scoreAhead;
    /** Shared by every task of this scorer, so that the model scores one batch at a time; null: score on the stream thread. */
    private final ExecutorService scoringThread;
    private KeyValueStore<Long, PendingQuestion> pending;
    /** Question ids taken in the last {@code idRetention}: a later question with one of them is a duplicate. */
    private WindowStore<String, Long> seen;
    private final Duration idRetention;
    /** Buffered and validated, not yet handed to scoring; in input order. The questions themselves are in the store. */
    private final ArrayDeque<Waiting> forming = new ArrayDeque<>();
    /** Handed to the scoring thread, oldest first; their questions are still in the store. */
    private final ArrayDeque<Batch> scoring = new ArrayDeque<>();
    /** Whether what the store held when this task started (restored from the changelog) has been queued. */
    private boolean adopted;

    private record Waiting(long offset, long arrivedAt) {}

    /** A batch out for scoring; {@code abandoned} makes it a no-op if its task closes before the scoring thread reaches it. */
    private record Batch(List<PendingQuestion> questions, Future<List<Outcome>> outcomes, AtomicBoolean abandoned) {}

    /** A question's prediction, or why it could not be scored. */
    private record Outcome(Prediction prediction, String failure) {}

    ScoringProcessor(QuestionScorer scorer, BatchScoring model, Topic<String, Question> questions, ScorerTopology.Batching batching,
                     Duration idRetention, ExecutorService scoringThread) {
        this.idRetention = idRetention;
        this.scorer = scorer;
        this.model = model;
        this.questions = questions;
        this.maxBatch = batching.maxBatch();
        this.maxWait = batching.maxWait();
        this.scoreAhead = batching.scoreAhead();
        this.scoringThread = scoringThread;
    }

    @Override
    public void init(ProcessorContext<String, Object> ctx) {
        super.init(ctx);
        this.pending = ctx.getStateStore(ScorerTopology.STORE);
        this.seen = ctx.getStateStore(ScorerTopology.SEEN_IDS);
        // Kafka Streams may init a closed processor again (a revived task): start from the store, as a new one would
        adopted = false;
        forming.clear();
        scoring.clear();
        ctx.schedule(TICK, PunctuationType.WALL_CLOCK_TIME, now -> {
            adoptStored();
            deliverFinished();
            while (!forming.isEmpty() && roomToScore() && (forming.size() >= maxBatch || now - forming.peek().arrivedAt() >= maxWait.toMillis())) {
                handOver();
            }
        });
    }

    /**
     * Queues, once and before anything newer, what the store held when this task started: after a restart,
     * what was buffered or being scored before it. (Not in init: it may forward, which init must not.)
     */
    private void adoptStored() {
        if (adopted) {
            return;
        }
        adopted = true;
        List<PendingQuestion> stored = new ArrayList<>();
        try (KeyValueIterator<Long, PendingQuestion> it = pending.all()) {
            it.forEachRemaining(kv -> stored.add(kv.value));
        }
        stored.forEach(p -> forming.add(new Waiting(p.getOffset(), p.getArrivedAt())));
        if (!stored.isEmpty()) {
            LOG.info("{} buffered question(s) in the store of task {}", stored.size(), context().taskId());
        }
        while (forming.size() >= maxBatch && roomToScore()) {
            handOver();
        }
    }

    @Override
    public void process(Record<String, byte[]> record) {
        RecordMetadata meta = context().recordMetadata().orElseThrow();
        PendingQuestion p = PendingQuestion.newBuilder().setTopic(meta.topic()).setPartition(meta.partition()).setOffset(meta.offset())
                .setArrivedAt(context().currentSystemTimeMs())
                .setKey(record.key() == null ? null : ByteBuffer.wrap(record.key().getBytes(StandardCharsets.UTF_8)))
                .setValue(record.value() == null ? null : ByteBuffer.wrap(record.value())).build();
        adoptStored();
        deliverFinished();
        if (record.value() == null) {
            deadLetter(p, DeadLetterReason.UNDECODABLE, "null value (tombstone)");
            return;
        }
        String id;
        try {
            id = scorer.validate(questions.deserialize(record.value())).question().getId();
        } catch (SerializationException e) {
            deadLetter(p, DeadLetterReason.UNDECODABLE, e.getMessage());
            return;
        } catch (InvalidQuestionException e) {
            deadLetter(p, DeadLetterReason.valueOf(e.reason().name()), e.getMessage());
            return;
        } catch (RetriableException e) {
            throw e;   // the registry out of reach: not this record's fault; tried again from the last commit
        } catch (RuntimeException e) {
            deadLetter(p, DeadLetterReason.INTERNAL, String.valueOf(e));
            return;
        }
        if (id.getBytes(StandardCharsets.UTF_8).length > MAX_ID_BYTES) {
            deadLetter(p, DeadLetterReason.TOO_LONG, "a question id of " + id.getBytes(StandardCharsets.UTF_8).length + " bytes, more than "
                    + MAX_ID_BYTES + " (its prediction, keyed by it, must fit in one record)");
            return;
        }
        if (!id.equals(record.key())) {
            deadLetter(p, DeadLetterReason.KEY_MISMATCH, "key " + record.key() + " but question id " + id
                    + " (questions are keyed by their id: that keeps one id on one partition)");
            return;
        }
        long now = context().currentSystemTimeMs();
        try (WindowStoreIterator<Long> earlier = seen.fetch(id, Instant.ofEpochMilli(now - idRetention.toMillis()), Instant.ofEpochMilli(now))) {
            if (earlier.hasNext()) {
                deadLetter(p, DeadLetterReason.DUPLICATE_ID, "question id " + id + " was already taken at offset " + earlier.next().value
                        + " of this partition (the first wins)");
                return;
            }
        }
        seen.put(id, meta.offset(), now);
        pending.put(meta.offset(), p);
        forming.add(new Waiting(meta.offset(), p.getArrivedAt()));
        if (forming.size() >= maxBatch && roomToScore()) {
            handOver();
        }
    }

    /** Whether a batch may be handed over now without waiting for one out for scoring. */
    private boolean roomToScore() {
        return scoringThread == null || scoring.size() < scoreAhead;
    }

    /**
     * Hands the forming batch (at most maxBatch of it) to scoring. Its questions are read back from the store and
     * encoded again (deterministic, and cheap next to scoring), so that memory holds offsets, not questions.
     */
    private void handOver() {
        List<PendingQuestion> batch = new ArrayList<>();
        List<ServedModel.Valid> valid = new ArrayList<>();
        while (batch.size() < maxBatch && !forming.isEmpty()) {
            PendingQuestion p = pending.get(forming.poll().offset());
            if (p == null) {
                continue;   // not in the store: nothing to score (offsets are the store's keys and never repeat on a partition)
            }
            try {
                valid.add(scorer.validate(questions.deserialize(bytes(p.getValue()))));
                batch.add(p);
            } catch (InvalidQuestionException e) {
                pending.delete(p.getOffset());
                deadLetter(p, DeadLetterReason.valueOf(e.reason().name()), e.getMessage());
            } catch (RetriableException e) {
                throw e;
            } catch (RuntimeException e) {
                pending.delete(p.getOffset());
                deadLetter(p, DeadLetterReason.INTERNAL, String.valueOf(e));
            }
        }
        if (batch.isEmpty()) {
            return;
        }
        if (scoringThread == null) {
            deliver(batch, score(valid));
            return;
        }
        AtomicBoolean abandoned = new AtomicBoolean();
        scoring.add(new Batch(batch, scoringThread.submit(() -> abandoned.get() ? List.<Outcome>of() : score(valid)), abandoned));
    }

    private void deliverFinished() {
        while (!scoring.isEmpty() && scoring.peek().outcomes().isDone()) {
            Batch b = scoring.poll();
            deliver(b.questions(), await(b.outcomes()));
        }
    }

    private static List<Outcome> await(Future<List<Outcome>> outcomes) {
        try {
            return outcomes.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a micro-batch", e);
        } catch (ExecutionException e) {
            // score() turns every RuntimeException into outcomes; what is left (an Error) must stop the task
            throw new IllegalStateException("scoring a micro-batch failed", e.getCause());
        }
    }

    /** Scores a batch; if it fails, its questions one by one, so that only a question that fails alone is dead-lettered. */
    private List<Outcome> score(List<ServedModel.Valid> valid) {
        try {
            long started = System.nanoTime();
            List<Outcome> out = model.score(valid, System.currentTimeMillis()).stream().map(p -> new Outcome(p, null)).toList();
            ScorerMeters.batch(System.nanoTime() - started);
            return out;
        } catch (RuntimeException e) {
            LOG.warn("a batch of {} failed ({}); scoring its questions one by one", valid.size(), e.toString());
            List<Outcome> out = new ArrayList<>();
            for (ServedModel.Valid v : valid) {
                try {
                    out.add(new Outcome(model.score(List.of(v), System.currentTimeMillis()).get(0), null));
                } catch (RuntimeException single) {
                    out.add(new Outcome(null, String.valueOf(single)));
                }
            }
            return out;
        }
    }

    private void deliver(List<PendingQuestion> batch, List<Outcome> outcomes) {
        long now = context().currentSystemTimeMs();
        for (int i = 0; i < batch.size(); i++) {
            Outcome o = outcomes.get(i);
            if (o.prediction() != null) {
                Prediction p = o.prediction();
                context().forward(new Record<>(p.getQuestionId(), (Object) p, now), ScorerTopology.PREDICTIONS_SINK);
                // produced_at → scoring started → scored → handed to Kafka
                ScorerMeters.prediction(p.getScoredAt().toEpochMilli() - p.getQueueLatencyMs() - p.getComputeLatencyMs(), now);
            } else {
                deadLetter(batch.get(i), DeadLetterReason.INTERNAL, o.failure());
            }
            pending.delete(batch.get(i).getOffset());
        }
    }

    /**
     * What was handed over and not delivered stays in the store and is scored again by whoever gets this task;
     * batches not started are abandoned, and a batch being scored is waited for, so that the model is never
     * closed under it.
     */
    @Override
    public void close() {
        scoring.forEach(b -> b.abandoned().set(true));
        for (Batch b : scoring) {
            try {
                b.outcomes().get(2, TimeUnit.MINUTES);
            } catch (ExecutionException e) {
                // nothing to wait for
            } catch (TimeoutException e) {
                LOG.warn("a micro-batch of task {} was still being scored after 2 minutes", context().taskId());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        scoring.clear();
    }

    private void deadLetter(PendingQuestion p, DeadLetterReason reason, String message) {
        DeadLetter d = DeadLetters.of(p.getTopic(), p.getPartition(), p.getOffset(), p.getKey() == null ? null : bytes(p.getKey()),
                p.getValue() == null ? null : bytes(p.getValue()), reason, message);
        String key = p.getKey() == null ? null : StandardCharsets.UTF_8.decode(p.getKey().duplicate()).toString();
        context().forward(new Record<>(key, (Object) d, context().currentSystemTimeMs()), ScorerTopology.DLQ_SINK);
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
