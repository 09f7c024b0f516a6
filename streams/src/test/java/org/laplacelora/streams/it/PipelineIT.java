package org.laplacelora.streams.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.laplacelora.schemas.avro.CalibrationMetrics;
import org.laplacelora.schemas.avro.DeadLetter;
import org.laplacelora.schemas.avro.Label;
import org.laplacelora.schemas.avro.Prediction;
import org.laplacelora.schemas.avro.Question;
import org.laplacelora.schemas.registry.InProcessSchemaRegistry;
import org.laplacelora.streams.ScorerFixture;
import org.laplacelora.streams.calibrator.CalibratorApp;
import org.laplacelora.streams.calibrator.CalibratorSettings;
import org.laplacelora.streams.kafka.EmbeddedKafka;
import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.kafka.Topics;
import org.laplacelora.streams.scorer.QuestionScorer;
import org.laplacelora.streams.scorer.ScorerApp;
import org.laplacelora.streams.scorer.ScorerSettings;
import org.laplacelora.streams.scorer.ScorerTopology;

/** The scorer and the calibrator on a real (in-process) KRaft cluster, with exactly-once processing. */
class PipelineIT {
    private static KafkaCluster cluster;
    private static InProcessSchemaRegistry registry;
    private static KafkaSettings kafka;
    private static QuestionScorer scorer;
    private static Topics topics;

    @BeforeAll
    static void start() throws Exception {
        cluster = new KafkaCluster();
        registry = InProcessSchemaRegistry.start(0, null);
        kafka = KafkaSettings.of(cluster.bootstrap(), registry.url(), null, (short) 1);
        topics = kafka.topics();
        EmbeddedKafka.createTopics(cluster.bootstrap(), topics.newTopics(2, (short) 1));
        scorer = ScorerFixture.scorer();
    }

    @AfterAll
    static void stop() throws Exception {
        scorer.close();
        registry.close();
        cluster.close();
    }

    private static ScorerApp scorerApp(String id, Path state, int maxBatch, Duration maxWait) throws Exception {
        ScorerSettings d = ScorerSettings.defaults();
        return ScorerApp.start(kafka, scorer, d.withBatching(new ScorerTopology.Batching(maxBatch, maxWait, d.batching().scoreAhead())),
                id, state);
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
        try (ScorerApp s = scorerApp("it-restart", first, 100, Duration.ofHours(1));
             KafkaProducer<String, byte[]> producer = cluster.producer()) {
            for (Question q : questions) {
                producer.send(topics.questions().record(q.getId(), q));
            }
            producer.flush();
            assertThat(cluster.readCommitted(changelog, Duration.ofSeconds(60), r -> r.size() >= 5)).hasSize(5);
        }
        java.util.function.Predicate<ConsumerRecord<String, byte[]>> ours = r -> r.key().startsWith("restart-");
        assertThat(cluster.readCommitted(topics.predictions().name(), Duration.ofSeconds(3), r -> false).stream().filter(ours)).isEmpty();
        try (ScorerApp s = scorerApp("it-restart", second, 100, Duration.ofMillis(100))) {
            List<ConsumerRecord<String, byte[]>> out = cluster.readCommitted(topics.predictions().name(), Duration.ofSeconds(60),
                    r -> r.stream().filter(ours).count() >= 5);
            Thread.sleep(1000);
            out = cluster.readCommitted(topics.predictions().name(), Duration.ofSeconds(3), r -> false);
            assertThat(out.stream().filter(ours).map(ConsumerRecord::key).toList())
                    .containsExactlyInAnyOrderElementsOf(questions.stream().map(Question::getId).toList());
        }
    }

    /**
     * State written by the codecs before the typed stores (here the micro-batch store's old hand-made
     * encoding: topic length, topic, partition, offset, arrival time, key length, key, value) is recognised,
     * not decoded: the scorer stops with one error that says to reset the application.
     */
    @Test
    void stateWrittenByAnOlderVersionStopsTheAppWithOneClearError(@TempDir Path state) throws Exception {
        byte[] topic = "questions".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] value = topics.questions().serialize(ScorerFixture.questions().get(0));
        byte[] old = ByteBuffer.allocate(4 + topic.length + 4 + 8 + 8 + 4 + value.length).putInt(topic.length).put(topic).putInt(0)
                .putLong(7).putLong(System.currentTimeMillis()).putInt(-1).put(value).array();
        String changelog = "it-stale-" + ScorerTopology.STORE + "-changelog";
        EmbeddedKafka.createTopics(cluster.bootstrap(), List.of(new NewTopic(changelog, 2, (short) 1)
                .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT))));
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers", cluster.bootstrap()),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(changelog, 0, ByteBuffer.allocate(8).putLong(7).array(), old)).get();
        }
        // The app stops on the stale record while it starts, or just after it reports RUNNING (Kafka Streams restores
        // state on its own thread): either way with the one error.
        Throwable failure = org.assertj.core.api.Assertions.catchThrowable(() -> {
            try (ScorerApp app = scorerApp("it-stale", state, 100, Duration.ofHours(1))) {
                java.util.concurrent.CompletableFuture.runAsync(() -> {
                    try {
                        app.awaitStop();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }).get(60, java.util.concurrent.TimeUnit.SECONDS);
            }
        });
        assertThat(failure).hasRootCauseInstanceOf(org.apache.avro.message.BadHeaderException.class)
                .hasMessageContaining("state written by an older version").hasMessageContaining("reset the application");
    }

    @Test
    void questionsBecomeOnePredictionOrOneDeadLetterEachAndCalibrationMetrics(@TempDir Path scorerState,
                                                                           @TempDir Path calibratorState) throws Exception {
        List<Question> questions = ScorerFixture.questions();
        int[] labels = ScorerFixture.labels();
        try (ScorerApp s = scorerApp("it-scorer", scorerState, 8, Duration.ofMillis(200));
             CalibratorApp c = CalibratorApp.start(kafka, CalibratorSettings.defaults().withHorizon(Duration.ofMinutes(5)).withWindowSize(10),
                     "it-calibrator", calibratorState);
             KafkaProducer<String, byte[]> producer = cluster.producer()) {
            for (int i = 0; i < questions.size(); i++) {
                Question q = questions.get(i);
                producer.send(topics.questions().record(q.getId(), q));
                producer.send(topics.labels().record(q.getId(),
                        Label.newBuilder().setQuestionId(q.getId()).setLabel(labels[i]).setLabelledAt(Instant.now()).build()));
                if (i == 5) {
                    producer.send(new ProducerRecord<>(topics.questions().name(), "bad-1", new byte[] {1, 2, 3}));
                    producer.send(topics.questions().record("bad-2", Question.newBuilder(q).setId("bad-2").setChoices(List.of("x", "y", "z")).build()));
                    producer.send(topics.questions().record("bad-3", Question.newBuilder(q).setId("bad-3").setTask("obqa").build()));
                }
            }
            producer.flush();
            // The other tests' questions share the topic (and this application scores them too): count ours.
            java.util.function.Predicate<ConsumerRecord<String, byte[]>> ours = r -> !r.key().startsWith("restart-");
            List<ConsumerRecord<String, byte[]>> predictions = cluster.readCommitted(topics.predictions().name(), Duration.ofSeconds(120),
                    r -> r.stream().filter(ours).count() >= questions.size()).stream().filter(ours).toList();
            List<ConsumerRecord<String, byte[]>> dead = cluster.readCommitted(topics.questionsDlq().name(), Duration.ofSeconds(30),
                    r -> r.size() >= 3);
            Map<String, Long> perId = predictions.stream().collect(Collectors.groupingBy(ConsumerRecord::key, Collectors.counting()));
            assertThat(perId).hasSize(questions.size()).allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1));
            assertThat(perId.keySet()).containsExactlyInAnyOrderElementsOf(questions.stream().map(Question::getId).toList());
            for (ConsumerRecord<String, byte[]> r : predictions) {
                Prediction p = topics.predictions().deserialize(r.value());
                assertThat(p.getQuestionId()).isEqualTo(r.key());
            }
            List<DeadLetter> deadLetters = new ArrayList<>();
            dead.forEach(r -> deadLetters.add(topics.questionsDlq().deserialize(r.value())));
            assertThat(deadLetters).extracting(DeadLetter::getReason).containsExactlyInAnyOrder("UNDECODABLE", "BAD_CHOICES", "UNKNOWN_TASK");
            assertThat(deadLetters).allMatch(d -> d.getSourceTopic().equals("questions") && d.getOffset() >= 0);

            List<ConsumerRecord<String, byte[]>> metrics = cluster.readCommitted(topics.calibrationMetrics().name(), Duration.ofSeconds(60),
                    r -> r.stream().filter(m -> m.key().equals("laplace|window|1")).count() == 1);
            List<CalibrationMetrics> decoded = new ArrayList<>();
            metrics.forEach(r -> decoded.add(topics.calibrationMetrics().deserialize(r.value())));
            assertThat(decoded).extracting(m -> m.getMethod() + "|" + m.getScope()).contains("laplace|window", "temperature|window",
                    "map|window", "laplace|running", "map|version");
            CalibrationMetrics running = decoded.stream().filter(m -> m.getMethod().equals("laplace") && m.getScope().equals("running"))
                    .reduce((a, b) -> b).orElseThrow();
            assertThat(running.getN()).isEqualTo(20);
            List<ConsumerRecord<String, byte[]>> outcomes = cluster.readCommitted(topics.labelledOutcomes().name(), Duration.ofSeconds(30),
                    r -> r.size() >= 20).stream().filter(ours).toList();
            assertThat(outcomes).hasSize(20);
            assertThat(outcomes.stream().map(r -> topics.labelledOutcomes().deserialize(r.value())
                    .getSequence()).sorted().toList()).containsExactlyElementsOf(java.util.stream.LongStream.range(0, 20).boxed().toList());
        }
    }
}
