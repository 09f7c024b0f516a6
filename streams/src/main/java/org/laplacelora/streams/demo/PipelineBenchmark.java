package org.laplacelora.streams.demo;

import java.io.PrintStream;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.laplacelora.model.tasks.Example;
import org.laplacelora.schemas.avro.CalibrationMetrics;
import org.laplacelora.schemas.avro.DeadLetter;
import org.laplacelora.schemas.avro.DriftEvent;
import org.laplacelora.schemas.avro.Label;
import org.laplacelora.schemas.avro.LabelledOutcome;
import org.laplacelora.schemas.avro.Prediction;
import org.laplacelora.schemas.avro.Question;
import org.laplacelora.schemas.registry.InProcessSchemaRegistry;
import org.laplacelora.schemas.registry.SchemaRegistry;
import org.laplacelora.schemas.serde.ConfluentAvroSerde;
import org.laplacelora.streams.calibrator.CalibratorSettings;
import org.laplacelora.streams.calibrator.CalibratorTopology;
import org.laplacelora.streams.config.KafkaSettings;
import org.laplacelora.streams.config.StreamsRunner;
import org.laplacelora.streams.embedded.EmbeddedKafka;
import org.laplacelora.streams.produce.QuestionProducer;
import org.laplacelora.streams.scorer.QuestionScorer;
import org.laplacelora.streams.scorer.ScorerTopology;

/**
 * Throughput of the scorer through Kafka (questions already in the topic, exactly-once, one partition, one
 * stream thread) against the bare model scoring the same questions in batches of the same size, and of the
 * calibrator alone on prepared predictions and labels.
 */
public final class PipelineBenchmark {
    public record Result(double bareQuestionsPerSecond, double pipelineQuestionsPerSecond, double outcomesPerSecond) {}

    private PipelineBenchmark() {}

    /**
     * @param commitInterval how often the scorer's and the calibrator's transactions commit
     * @param scoreAhead micro-batches the scorer scores on its own thread (0: on the stream thread)
     */
    public static Result run(QuestionScorer scorer, List<Example> questions, int batch, Duration commitInterval, int scoreAhead,
                             PrintStream out)
            throws Exception {
        List<Question> avro = questions.stream().map(e -> QuestionProducer.toQuestion(e, Map.of())).toList();
        // Bare model: validate (tokenize) and score in batches.
        scoreBare(scorer, avro.subList(0, Math.min(avro.size(), 4 * batch)), batch);    // warm-up
        long t0 = System.nanoTime();
        scoreBare(scorer, avro, batch);
        double bare = avro.size() / ((System.nanoTime() - t0) / 1e9);
        out.printf("bare model: %d questions in batches of %d: %.1f questions/s%n", avro.size(), batch, bare);

        try (EmbeddedKafka kafkaServer = EmbeddedKafka.start(null, 0, 0);
             InProcessSchemaRegistry registryServer = InProcessSchemaRegistry.start(0, null)) {
            KafkaSettings kafka = KafkaSettings.of(kafkaServer.bootstrapServers(), registryServer.url(), null, (short) 1);
            kafkaServer.createTopics(kafka.topics().newTopics(1, (short) 1));
            SchemaRegistry registry = kafka.registry();
            ConfluentAvroSerde<Question> qs = ConfluentAvroSerde.value(Question.class, registry);
            try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(Map.of("bootstrap.servers", kafka.bootstrapServers()),
                    new StringSerializer(), new ByteArraySerializer())) {
                for (Question q : avro) {
                    p.send(new ProducerRecord<>(kafka.topics().questions(), q.getId(), qs.serialize(kafka.topics().questions(), q)));
                }
            }
            double pipeline;
            List<byte[]> predictions;
            try (StreamsRunner app = StreamsRunner.start(ScorerTopology.build(kafka.topics(), scorer, qs.deserializer(),
                    ConfluentAvroSerde.value(Prediction.class, registry).serializer(),
                    ConfluentAvroSerde.value(DeadLetter.class, registry).serializer(),
                    new ScorerTopology.Batching(batch, Duration.ofMillis(50), scoreAhead)), kafka, "bench-scorer",
                    Files.createTempDirectory("bench-scorer"), commitInterval, ScorerTopology.STREAMS_SETTINGS)) {
                long start = System.nanoTime();
                predictions = readCommitted(kafka, kafka.topics().predictions(), avro.size(), Duration.ofMinutes(10));
                pipeline = predictions.size() / ((System.nanoTime() - start) / 1e9);
            }
            out.printf("through Kafka (exactly once, micro-batches of %d, %s, commits every %d ms): %d predictions: %.1f questions/s "
                    + "= %.0f%% of the bare model%n", batch, scoreAhead == 0 ? "scored on the stream thread"
                    : "up to " + scoreAhead + " scored ahead on their own thread", commitInterval.toMillis(), predictions.size(),
                    pipeline, 100 * pipeline / bare);
            // Where the time went: scoring (each prediction carries its batch's compute time) against the rest.
            ConfluentAvroSerde<Prediction> ps = ConfluentAvroSerde.value(Prediction.class, registry);
            double scoringSeconds = 0;
            long firstScored = Long.MAX_VALUE;
            long lastScored = Long.MIN_VALUE;
            for (byte[] b : predictions) {
                Prediction x = ps.deserialize(kafka.topics().predictions(), b);
                scoringSeconds += x.getComputeLatencyMs() / 1e3 / x.getBatchSize();
                firstScored = Math.min(firstScored, x.getScoredAt().toEpochMilli());
                lastScored = Math.max(lastScored, x.getScoredAt().toEpochMilli());
            }
            double wall = predictions.size() / pipeline;
            out.printf("  of which scoring %.1f s (%.1f questions/s while scoring), everything else (start-up, polling, decoding, "
                    + "state, producing, commits, reading back) %.1f s%n", scoringSeconds, predictions.size() / scoringSeconds,
                    wall - scoringSeconds);
            double steady = (predictions.size() - batch) / Math.max(1e-3, (lastScored - firstScored) / 1e3);
            out.printf("  steady state, from the first batch's predictions to the last's: %.1f questions/s = %.0f%% of the bare model%n",
                    steady, 100 * steady / bare);

            // Calibrator alone: the predictions just made, plus their labels.
            ConfluentAvroSerde<Label> ls = ConfluentAvroSerde.value(Label.class, registry);
            try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(Map.of("bootstrap.servers", kafka.bootstrapServers()),
                    new StringSerializer(), new ByteArraySerializer())) {
                for (int i = 0; i < questions.size(); i++) {
                    Example e = questions.get(i);
                    p.send(new ProducerRecord<>(kafka.topics().labels(), e.question().id(), ls.serialize(kafka.topics().labels(),
                            Label.newBuilder().setQuestionId(e.question().id()).setLabel(e.label()).setLabelledAt(Instant.now()).build())));
                }
            }
            double outcomesPerSecond;
            try (StreamsRunner app = StreamsRunner.start(CalibratorTopology.build(kafka.topics(), new CalibratorTopology.CalibratorSerdes(
                    qs.deserializer(), ConfluentAvroSerde.value(Prediction.class, registry), ls,
                    ConfluentAvroSerde.value(CalibrationMetrics.class, registry), ConfluentAvroSerde.value(DriftEvent.class, registry),
                    ConfluentAvroSerde.value(LabelledOutcome.class, registry)),
                    new CalibratorSettings(Duration.ofMinutes(10), 100, 0.1, 25, 30, 0.15, "laplace")), kafka, "bench-calibrator",
                    Files.createTempDirectory("bench-calibrator"), commitInterval)) {
                long start = System.nanoTime();
                List<byte[]> outcomes = readCommitted(kafka, kafka.topics().labelledOutcomes(), avro.size(), Duration.ofMinutes(10));
                outcomesPerSecond = outcomes.size() / ((System.nanoTime() - start) / 1e9);
            }
            out.printf("calibrator alone: %d labelled outcomes: %.1f outcomes/s%n", avro.size(), outcomesPerSecond);
            return new Result(bare, pipeline, outcomesPerSecond);
        }
    }

    private static void scoreBare(QuestionScorer scorer, List<Question> qs, int batch) {
        for (int i = 0; i < qs.size(); i += batch) {
            List<QuestionScorer.Valid> valid = new ArrayList<>();
            for (Question q : qs.subList(i, Math.min(i + batch, qs.size()))) {
                valid.add(scorer.validate(q));
            }
            scorer.score(valid, System.currentTimeMillis());
        }
    }

    private static List<byte[]> readCommitted(KafkaSettings kafka, String topic, int n, Duration timeout) {
        Map<String, Object> p = new HashMap<>(kafka.kafka());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-" + topic + "-" + System.nanoTime());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<byte[]> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
            c.subscribe(List.of(topic));
            long end = System.nanoTime() + timeout.toNanos();
            while (out.size() < n && System.nanoTime() < end) {
                c.poll(Duration.ofMillis(20)).forEach(r -> out.add(r.value()));
            }
        }
        return out;
    }
}
