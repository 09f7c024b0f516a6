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
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.ContextualProcessor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
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
 * being scored is still in the store and is scored again. With {@code scoreAhead} 0 batches are scored on
 * the stream thread itself. A record that cannot be scored goes to the dead-letter sink with its reason and
 * never stops the stream.
 */
final class ScoringProcessor extends ContextualProcessor<String, byte[], String, Object> {
    private static final Logger LOG = LoggerFactory.getLogger(ScoringProcessor.class);
    private static final Duration TICK = Duration.ofMillis(10);

    private final QuestionScorer scorer;
    private final Topic<String, Question> questions;
    private final int maxBatch;
    private final Duration maxWait;
    private final int scoreAhead;
    /** Shared by every task of this scorer, so that the model scores one batch at a time; null: score on the stream thread. */
    private final ExecutorService scoringThread;
    private KeyValueStore<Long, PendingQuestion> pending;
    /** Buffered and validated, not yet handed to scoring; in input order. */
    private final List<Queued> forming = new ArrayList<>();
    /** Handed to the scoring thread, oldest first; their questions are still in the store. */
    private final ArrayDeque<Batch> scoring = new ArrayDeque<>();
    /** Whether what the store held when this task started (restored from the changelog) has been queued. */
    private boolean adopted;

    private record Queued(PendingQuestion pending, ServedModel.Valid valid) {}

    /** A batch out for scoring; {@code abandoned} makes it a no-op if its task closes before the scoring thread reaches it. */
    private record Batch(List<PendingQuestion> questions, Future<List<Outcome>> outcomes, AtomicBoolean abandoned) {}

    /** A question's prediction, or why it could not be scored. */
    private record Outcome(Prediction prediction, String failure) {}

    ScoringProcessor(QuestionScorer scorer, Topic<String, Question> questions, ScorerTopology.Batching batching,
                     ExecutorService scoringThread) {
        this.scorer = scorer;
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
        ctx.schedule(TICK, PunctuationType.WALL_CLOCK_TIME, now -> {
            adoptStored();
            deliverFinished();
            if (!forming.isEmpty() && now - forming.get(0).pending().getArrivedAt() >= maxWait.toMillis()) {
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
        for (PendingQuestion p : stored) {
            try {
                forming.add(new Queued(p, scorer.validate(questions.deserialize(bytes(p.getValue())))));
            } catch (InvalidQuestionException e) {
                pending.delete(p.getOffset());
                deadLetter(p, DeadLetterReason.of(e.reason()), e.getMessage());
            } catch (RuntimeException e) {
                pending.delete(p.getOffset());
                deadLetter(p, DeadLetterReason.INTERNAL, String.valueOf(e));
            }
        }
        if (!stored.isEmpty()) {
            LOG.info("{} buffered question(s) in the store of task {}", stored.size(), context().taskId());
        }
        while (forming.size() >= maxBatch) {
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
        ServedModel.Valid valid;
        try {
            valid = scorer.validate(questions.deserialize(record.value()));
        } catch (SerializationException e) {
            deadLetter(p, DeadLetterReason.UNDECODABLE, e.getMessage());
            return;
        } catch (InvalidQuestionException e) {
            deadLetter(p, DeadLetterReason.of(e.reason()), e.getMessage());
            return;
        } catch (RuntimeException e) {
            deadLetter(p, DeadLetterReason.INTERNAL, String.valueOf(e));
            return;
        }
        pending.put(meta.offset(), p);
        forming.add(new Queued(p, valid));
        if (forming.size() >= maxBatch) {
            handOver();
        }
    }

    /** Hands the forming batch (at most maxBatch of it) to scoring; waits for the oldest batch when scoreAhead are already out. */
    private void handOver() {
        List<Queued> taken = new ArrayList<>(forming.subList(0, Math.min(maxBatch, forming.size())));
        forming.subList(0, taken.size()).clear();
        List<PendingQuestion> batch = taken.stream().map(Queued::pending).toList();
        List<ServedModel.Valid> valid = taken.stream().map(Queued::valid).toList();
        if (scoringThread == null) {
            deliver(batch, score(valid));
            return;
        }
        while (scoring.size() >= scoreAhead) {
            Batch oldest = scoring.poll();
            deliver(oldest.questions(), await(oldest.outcomes()));
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
            List<Outcome> out = scorer.score(valid, System.currentTimeMillis()).stream().map(p -> new Outcome(p, null)).toList();
            ScorerMeters.batch(System.nanoTime() - started);
            return out;
        } catch (RuntimeException e) {
            LOG.warn("a batch of {} failed ({}); scoring its questions one by one", valid.size(), e.toString());
            List<Outcome> out = new ArrayList<>();
            for (ServedModel.Valid v : valid) {
                try {
                    out.add(new Outcome(scorer.score(List.of(v), System.currentTimeMillis()).get(0), null));
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
        DeadLetter d = DeadLetter.newBuilder()
                .setSourceTopic(p.getTopic())
                .setPartition(p.getPartition())
                .setOffset(p.getOffset())
                .setKey(p.getKey() == null ? null : p.getKey().duplicate())
                .setValue(p.getValue() == null ? null : p.getValue().duplicate())
                .setReason(reason.name())
                .setMessage(message == null ? reason.name() : message)
                .setFailedAt(Instant.now())
                .build();
        String key = p.getKey() == null ? null : StandardCharsets.UTF_8.decode(p.getKey().duplicate()).toString();
        context().forward(new Record<>(key, (Object) d, context().currentSystemTimeMs()), ScorerTopology.DLQ_SINK);
        ScorerMeters.deadLetter(reason);
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
