package org.laplacelora.streams.scorer;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;
import org.laplacelora.schemas.state.PendingQuestion;
import org.laplacelora.streams.kafka.StateSerde;
import org.laplacelora.streams.kafka.Topics;

/** questions → (micro-batched Laplace scoring) → predictions, and invalid records → questions-dlq. */
public final class ScorerTopology {
    public static final String STORE = "scorer-pending";
    public static final String SEEN_IDS = "scorer-seen-ids";
    /** How long a question id stays taken: a question with the same id within it is dead-lettered as a duplicate. */
    public static final Duration ID_RETENTION = Duration.ofDays(7);
    static final String SOURCE = "questions-source";
    static final String PROCESSOR = "score";
    static final String PREDICTIONS_SINK = "predictions-sink";
    static final String DLQ_SINK = "dlq-sink";

    /**
     * Micro-batch limits: a batch is scored when it holds {@code maxBatch} questions or its oldest has waited
     * {@code maxWait}; up to {@code scoreAhead} batches are scored on a thread of their own while the stream
     * thread polls and commits (0: on the stream thread).
     */
    public record Batching(int maxBatch, Duration maxWait, int scoreAhead) {
        public Batching {
            if (maxBatch <= 0 || maxWait.isNegative() || scoreAhead < 0) {
                throw new IllegalArgumentException("max batch must be positive, max wait and score-ahead not negative");
            }
        }
    }

    private ScorerTopology() {}

    public static Topology build(Topics topics, QuestionScorer scorer, Batching batching) {
        return build(topics, scorer, scorer::score, batching);
    }

    /** @param model what scores a batch: the scorer itself, or a wrapper around it (tests slow it down) */
    public static Topology build(Topics topics, QuestionScorer scorer, BatchScoring model, Batching batching) {
        Topology t = new Topology();
        t.addSource(SOURCE, Serdes.String().deserializer(), Serdes.ByteArray().deserializer(), topics.questions().name());
        ExecutorService scoringThread = batching.scoreAhead() == 0 ? null : scoringThread();
        t.addProcessor(PROCESSOR, () -> new ScoringProcessor(scorer, model, topics.questions(), batching, ID_RETENTION, scoringThread), SOURCE);
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STORE), Serdes.Long(),
                StateSerde.of(PendingQuestion.class)), PROCESSOR);
        // old ids leave segment by segment as the retention passes, without a scan
        t.addStateStore(Stores.windowStoreBuilder(Stores.persistentWindowStore(SEEN_IDS, ID_RETENTION, Duration.ofMillis(1), false),
                Serdes.String(), Serdes.Long()), PROCESSOR);
        t.addSink(PREDICTIONS_SINK, topics.predictions().name(), Serdes.String().serializer(),
                topics.predictions().valueSerde().serializer(), PROCESSOR);
        t.addSink(DLQ_SINK, topics.questionsDlq().name(), Serdes.String().serializer(),
                topics.questionsDlq().valueSerde().serializer(), PROCESSOR);
        return t;
    }

    /** One daemon thread, started when there is work and gone after 30 s without. */
    private static ExecutorService scoringThread() {
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor e = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "scorer-batches-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        e.allowCoreThreadTimeOut(true);
        return e;
    }
}
