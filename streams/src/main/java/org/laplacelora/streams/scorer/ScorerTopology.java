package org.laplacelora.streams.scorer;

import java.time.Duration;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;
import org.laplacelora.schemas.avro.DeadLetter;
import org.laplacelora.schemas.avro.Prediction;
import org.laplacelora.schemas.avro.Question;
import org.laplacelora.streams.config.Topics;

/** questions → (micro-batched Laplace scoring) → predictions, and invalid records → questions-dlq. */
public final class ScorerTopology {
    public static final String STORE = "scorer-pending";
    static final String SOURCE = "questions-source";
    static final String PROCESSOR = "score";
    static final String PREDICTIONS_SINK = "predictions-sink";
    static final String DLQ_SINK = "dlq-sink";

    /** Micro-batch limits: a batch is scored when it holds {@code maxBatch} questions or its oldest has waited {@code maxWait}. */
    public record Batching(int maxBatch, Duration maxWait) {
        public Batching {
            if (maxBatch <= 0 || maxWait.isNegative()) {
                throw new IllegalArgumentException("max batch must be positive and max wait not negative");
            }
        }
    }

    private ScorerTopology() {}

    public static Topology build(Topics topics, QuestionScorer scorer, Deserializer<Question> questions,
                                 Serializer<Prediction> predictions, Serializer<DeadLetter> deadLetters, Batching batching) {
        Topology t = new Topology();
        t.addSource(SOURCE, Serdes.String().deserializer(), Serdes.ByteArray().deserializer(), topics.questions());
        t.addProcessor(PROCESSOR, () -> new ScoringProcessor(scorer, questions, batching.maxBatch(), batching.maxWait()), SOURCE);
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STORE), Serdes.Long(), Serdes.ByteArray()),
                PROCESSOR);
        t.addSink(PREDICTIONS_SINK, topics.predictions(), Serdes.String().serializer(), cast(predictions), PROCESSOR);
        t.addSink(DLQ_SINK, topics.questionsDlq(), Serdes.String().serializer(), cast(deadLetters), PROCESSOR);
        return t;
    }

    @SuppressWarnings("unchecked")
    private static Serializer<Object> cast(Serializer<?> s) {
        return (Serializer<Object>) s;
    }
}
