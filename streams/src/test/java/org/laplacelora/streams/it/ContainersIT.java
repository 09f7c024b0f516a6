package org.laplacelora.streams.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.laplacelora.schemas.avro.Question;
import org.laplacelora.schemas.registry.InProcessSchemaRegistry;
import org.laplacelora.streams.ScorerFixture;
import org.laplacelora.streams.kafka.EmbeddedKafka;
import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.scorer.QuestionScorer;
import org.laplacelora.streams.scorer.ScorerApp;
import org.laplacelora.streams.scorer.ScorerSettings;
import org.laplacelora.streams.scorer.ScorerTopology;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;

/**
 * For users with Docker: the scorer against a real Apache Kafka broker in a container. Skipped where there
 * is no Docker daemon; the same path is covered without Docker by PipelineIT on Kafka's in-process cluster.
 */
@Testcontainers(disabledWithoutDocker = true)
class ContainersIT {
    @Container
    static final KafkaContainer KAFKA = new KafkaContainer("apache/kafka:4.3.1");

    @Test
    void theScorerAgainstAKafkaContainer(@TempDir Path state) throws Exception {
        try (InProcessSchemaRegistry registry = InProcessSchemaRegistry.start(0, null);
             QuestionScorer scorer = ScorerFixture.scorer()) {
            KafkaSettings kafka = KafkaSettings.of(KAFKA.getBootstrapServers(), registry.url(), null, (short) 1);
            EmbeddedKafka.createTopics(kafka.bootstrapServers(), kafka.topics().newTopics(1, (short) 1));
            List<Question> questions = ScorerFixture.questions().subList(0, 5);
            try (ScorerApp app = ScorerApp.start(kafka, scorer, ScorerSettings.defaults().withBatching(
                    new ScorerTopology.Batching(5, Duration.ofMillis(100), 2)), "containers-scorer", state);
                 KafkaProducer<String, byte[]> p = kafka.producer()) {
                for (Question q : questions) {
                    p.send(kafka.topics().questions().record(q.getId(), q));
                }
                p.flush();
                List<String> ids = new ArrayList<>();
                try (KafkaConsumer<String, byte[]> consumer = kafka.readCommittedConsumer("containers-reader")) {
                    consumer.subscribe(List.of(kafka.topics().predictions().name()));
                    long end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
                    while (ids.size() < 5 && System.nanoTime() < end) {
                        consumer.poll(Duration.ofMillis(200)).forEach(r -> ids.add(r.key()));
                    }
                }
                assertThat(ids).containsExactlyInAnyOrderElementsOf(questions.stream().map(Question::getId).toList());
            }
        }
    }
}
