package org.laplacelora.streams.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.laplacelora.schemas.avro.DeadLetter;
import org.laplacelora.schemas.avro.Prediction;
import org.laplacelora.schemas.avro.Question;
import org.laplacelora.schemas.registry.InProcessSchemaRegistry;
import org.laplacelora.schemas.serde.ConfluentAvroSerde;
import org.laplacelora.streams.ScorerFixture;
import org.laplacelora.streams.config.KafkaSettings;
import org.laplacelora.streams.config.StreamsRunner;
import org.laplacelora.streams.embedded.EmbeddedKafka;
import org.laplacelora.streams.scorer.QuestionScorer;
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
            var client = kafka.registry();
            ConfluentAvroSerde<Question> qs = ConfluentAvroSerde.value(Question.class, client);
            List<Question> questions = ScorerFixture.questions().subList(0, 5);
            try (StreamsRunner app = StreamsRunner.start(ScorerTopology.build(kafka.topics(), scorer, qs.deserializer(),
                    ConfluentAvroSerde.value(Prediction.class, client).serializer(), ConfluentAvroSerde.value(DeadLetter.class, client).serializer(),
                    new ScorerTopology.Batching(5, Duration.ofMillis(100))), kafka, "containers-scorer", state, Duration.ofMillis(100));
                 KafkaProducer<String, byte[]> p = new KafkaProducer<>(Map.of("bootstrap.servers", kafka.bootstrapServers()),
                         new StringSerializer(), new ByteArraySerializer())) {
                for (Question q : questions) {
                    p.send(new ProducerRecord<>(kafka.topics().questions(), q.getId(), qs.serialize(kafka.topics().questions(), q)));
                }
                p.flush();
                Map<String, Object> c = new HashMap<>(kafka.kafka());
                c.put(ConsumerConfig.GROUP_ID_CONFIG, "containers-reader");
                c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
                c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
                List<String> ids = new ArrayList<>();
                try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer())) {
                    consumer.subscribe(List.of(kafka.topics().predictions()));
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
