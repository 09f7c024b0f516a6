package org.laplacelora.streams.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.laplacelora.schemas.avro.CalibrationMetrics;
import org.laplacelora.schemas.avro.DeadLetter;
import org.laplacelora.schemas.avro.Label;
import org.laplacelora.schemas.avro.LabelledOutcome;
import org.laplacelora.schemas.avro.Prediction;
import org.laplacelora.schemas.avro.Question;
import org.laplacelora.schemas.registry.InProcessSchemaRegistry;
import org.laplacelora.schemas.registry.SchemaRegistry;
import org.laplacelora.schemas.serde.ConfluentAvroSerde;
import org.laplacelora.streams.ScorerFixture;
import org.laplacelora.streams.calibrator.CalibratorSettings;
import org.laplacelora.streams.calibrator.CalibratorTopology;
import org.laplacelora.streams.config.KafkaSettings;
import org.laplacelora.streams.config.StreamsRunner;
import org.laplacelora.streams.config.Topics;
import org.laplacelora.streams.embedded.EmbeddedKafka;
import org.laplacelora.streams.scorer.QuestionScorer;
import org.laplacelora.streams.scorer.ScorerTopology;

/** The scorer and the calibrator on a real (in-process) KRaft cluster, with exactly-once processing. */
class PipelineIT {
    private static KafkaCluster cluster;
    private static InProcessSchemaRegistry registry;
    private static KafkaSettings kafka;
    private static SchemaRegistry client;
    private static QuestionScorer scorer;
    private static Topics topics;

    @BeforeAll
    static void start() throws Exception {
        cluster = new KafkaCluster();
        registry = InProcessSchemaRegistry.start(0, null);
        kafka = KafkaSettings.of(cluster.bootstrap(), registry.url(), null, (short) 1);
        topics = kafka.topics();
        EmbeddedKafka.createTopics(cluster.bootstrap(), topics.newTopics(2, (short) 1));
        client = kafka.registry();
        scorer = ScorerFixture.scorer();
    }

    @AfterAll
    static void stop() throws Exception {
        scorer.close();
        registry.close();
        cluster.close();
    }

    private static <T extends org.apache.avro.specific.SpecificRecord> ConfluentAvroSerde<T> serde(Class<T> type) {
        return ConfluentAvroSerde.value(type, client);
    }

    private static StreamsRunner scorerApp(String id, Path state, int maxBatch, Duration maxWait) throws Exception {
        return StreamsRunner.start(ScorerTopology.build(topics, scorer, serde(Question.class).deserializer(),
                serde(Prediction.class).serializer(), serde(DeadLetter.class).serializer(),
                new ScorerTopology.Batching(maxBatch, maxWait)), kafka, id, state, Duration.ofMillis(100));
    }

    /**
     * The first scorer buffers questions it has not scored yet (its batch never fills) and stops; a second
     * one on an empty state directory — a fresh machine — restores the buffer from the store's changelog
     * and scores every buffered question, exactly once.
     */
    @Test
    void bufferedQuestionsSurviveARestartOnAFreshMachine(@TempDir Path first, @TempDir Path second) throws Exception {
        List<Question> questions = ScorerFixture.questions().subList(0, 5).stream()
                .map(q -> Question.newBuilder(q).setId("restart-" + q.getId()).build()).toList();
        String changelog = "it-restart-" + ScorerTopology.STORE + "-changelog";
        try (StreamsRunner s = scorerApp("it-restart", first, 100, Duration.ofHours(1));
             KafkaProducer<String, byte[]> producer = cluster.producer()) {
            for (Question q : questions) {
                producer.send(new ProducerRecord<>(topics.questions(), q.getId(), serde(Question.class).serialize(topics.questions(), q)));
            }
            producer.flush();
            assertThat(cluster.readCommitted(changelog, Duration.ofSeconds(60), r -> r.size() >= 5)).hasSize(5);
        }
        java.util.function.Predicate<ConsumerRecord<String, byte[]>> ours = r -> r.key().startsWith("restart-");
        assertThat(cluster.readCommitted(topics.predictions(), Duration.ofSeconds(3), r -> false).stream().filter(ours)).isEmpty();
        try (StreamsRunner s = scorerApp("it-restart", second, 100, Duration.ofMillis(100))) {
            List<ConsumerRecord<String, byte[]>> out = cluster.readCommitted(topics.predictions(), Duration.ofSeconds(60),
                    r -> r.stream().filter(ours).count() >= 5);
            Thread.sleep(1000);
            out = cluster.readCommitted(topics.predictions(), Duration.ofSeconds(3), r -> false);
            assertThat(out.stream().filter(ours).map(ConsumerRecord::key).toList())
                    .containsExactlyInAnyOrderElementsOf(questions.stream().map(Question::getId).toList());
        }
    }

    @Test
    void questionsBecomeOnePredictionOrOneDeadLetterEachAndCalibrationMetrics(@TempDir Path scorerState,
                                                                           @TempDir Path calibratorState) throws Exception {
        List<Question> questions = ScorerFixture.questions();
        int[] labels = ScorerFixture.labels();
        try (StreamsRunner s = scorerApp("it-scorer", scorerState, 8, Duration.ofMillis(200));
             StreamsRunner c = StreamsRunner.start(CalibratorTopology.build(topics, new CalibratorTopology.CalibratorSerdes(
                     serde(Question.class).deserializer(), serde(Prediction.class), serde(Label.class),
                     serde(CalibrationMetrics.class), serde(org.laplacelora.schemas.avro.DriftEvent.class), serde(LabelledOutcome.class)),
                     new CalibratorSettings(Duration.ofMinutes(5), 10, 0.1, 25, 30, 0.15, "laplace")),
                     kafka, "it-calibrator", calibratorState, Duration.ofMillis(100));
             KafkaProducer<String, byte[]> producer = cluster.producer()) {
            ConfluentAvroSerde<Question> qs = serde(Question.class);
            ConfluentAvroSerde<Label> ls = serde(Label.class);
            for (int i = 0; i < questions.size(); i++) {
                Question q = questions.get(i);
                producer.send(new ProducerRecord<>(topics.questions(), q.getId(), qs.serialize(topics.questions(), q)));
                producer.send(new ProducerRecord<>(topics.labels(), q.getId(), ls.serialize(topics.labels(),
                        Label.newBuilder().setQuestionId(q.getId()).setLabel(labels[i]).setLabelledAt(Instant.now()).build())));
                if (i == 5) {
                    producer.send(new ProducerRecord<>(topics.questions(), "bad-1", new byte[] {1, 2, 3}));
                    producer.send(new ProducerRecord<>(topics.questions(), "bad-2", qs.serialize(topics.questions(),
                            Question.newBuilder(q).setId("bad-2").setChoices(List.of("x", "y", "z")).build())));
                    producer.send(new ProducerRecord<>(topics.questions(), "bad-3", qs.serialize(topics.questions(),
                            Question.newBuilder(q).setId("bad-3").setTask("obqa").build())));
                }
            }
            producer.flush();
            ConfluentAvroSerde<Prediction> ps = serde(Prediction.class);
            // The other test's questions share the topic (and this application scores them too): count ours.
            java.util.function.Predicate<ConsumerRecord<String, byte[]>> ours = r -> !r.key().startsWith("restart-");
            List<ConsumerRecord<String, byte[]>> predictions = cluster.readCommitted(topics.predictions(), Duration.ofSeconds(120),
                    r -> r.stream().filter(ours).count() >= questions.size()).stream().filter(ours).toList();
            List<ConsumerRecord<String, byte[]>> dead = cluster.readCommitted(topics.questionsDlq(), Duration.ofSeconds(30),
                    r -> r.size() >= 3);
            Map<String, Long> perId = predictions.stream().collect(Collectors.groupingBy(ConsumerRecord::key, Collectors.counting()));
            assertThat(perId).hasSize(questions.size()).allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1));
            assertThat(perId.keySet()).containsExactlyInAnyOrderElementsOf(questions.stream().map(Question::getId).toList());
            for (ConsumerRecord<String, byte[]> r : predictions) {
                Prediction p = ps.deserialize(topics.predictions(), r.value());
                assertThat(p.getQuestionId()).isEqualTo(r.key());
            }
            List<DeadLetter> deadLetters = new ArrayList<>();
            dead.forEach(r -> deadLetters.add(serde(DeadLetter.class).deserialize(topics.questionsDlq(), r.value())));
            assertThat(deadLetters).extracting(DeadLetter::getReason).containsExactlyInAnyOrder("UNDECODABLE", "BAD_CHOICES", "UNKNOWN_TASK");
            assertThat(deadLetters).allMatch(d -> d.getSourceTopic().equals("questions") && d.getOffset() >= 0);

            List<ConsumerRecord<String, byte[]>> metrics = cluster.readCommitted(topics.calibrationMetrics(), Duration.ofSeconds(60),
                    r -> r.stream().filter(m -> m.key().equals("laplace|window|1")).count() == 1);
            List<CalibrationMetrics> decoded = new ArrayList<>();
            metrics.forEach(r -> decoded.add(serde(CalibrationMetrics.class).deserialize(topics.calibrationMetrics(), r.value())));
            assertThat(decoded).extracting(m -> m.getMethod() + "|" + m.getScope()).contains("laplace|window", "temperature|window",
                    "map|window", "laplace|running", "map|version");
            CalibrationMetrics running = decoded.stream().filter(m -> m.getMethod().equals("laplace") && m.getScope().equals("running"))
                    .reduce((a, b) -> b).orElseThrow();
            assertThat(running.getN()).isEqualTo(20);
            List<ConsumerRecord<String, byte[]>> outcomes = cluster.readCommitted(topics.labelledOutcomes(), Duration.ofSeconds(30),
                    r -> r.size() >= 20).stream().filter(ours).toList();
            assertThat(outcomes).hasSize(20);
            assertThat(outcomes.stream().map(r -> serde(LabelledOutcome.class).deserialize(topics.labelledOutcomes(), r.value())
                    .getSequence()).sorted().toList()).containsExactlyElementsOf(java.util.stream.LongStream.range(0, 20).boxed().toList());
        }
    }
}
