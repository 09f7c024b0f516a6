package org.laplacelora.streams.it;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.kafka.clients.consumer.ConsumerRecord;
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
import org.slf4j.LoggerFactory;

/**
 * A model slower than Kafka Streams' exactly-once transaction timeout (10 s): every micro-batch takes 11 s (a
 * delay in front of the real scoring). Three batches are queued at once, one more than are scored ahead, so a
 * stream thread that waited for a batch would hold its transaction open past the timeout and be fenced (the
 * broker checks for such transactions every second here). Every question still gets exactly one prediction, and
 * nothing in the log says fenced, timed out or failed. The test has teeth: with {@code scoreAhead} 0 (scoring
 * inside the transaction) it fails.
 */
class SlowBatchIT {
    private static final Duration BATCH_DELAY = Duration.ofSeconds(11);

    @Test
    void batchesSlowerThanTheTransactionTimeoutKeepExactlyOnceWithoutFencing(@TempDir Path state) throws Exception {
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        log.start();
        root.addAppender(log);
        // the broker aborts a transaction past its timeout at its next check: every second here, not every 10 s
        try (KafkaCluster cluster = new KafkaCluster(java.util.Map.of("transaction.abort.timed.out.transaction.cleanup.interval.ms", "1000"));
             InProcessSchemaRegistry registry = InProcessSchemaRegistry.start(0, null);
             QuestionScorer scorer = ScorerFixture.scorer()) {
            KafkaSettings kafka = KafkaSettings.of(cluster.bootstrap(), registry.url(), null, (short) 1);
            EmbeddedKafka.createTopics(cluster.bootstrap(), kafka.topics().newTopics(1, (short) 1));
            List<Question> fixture = ScorerFixture.questions();
            List<Question> questions = java.util.stream.IntStream.range(0, 30).mapToObj(i -> Question.newBuilder(fixture.get(i % fixture.size()))
                    .setId("slow-" + i).build()).toList();
            ScorerSettings settings = ScorerSettings.defaults().withBatching(new ScorerTopology.Batching(10, Duration.ofMillis(100), 2));
            try (ScorerApp app = ScorerApp.start(kafka, scorer, (batch, started) -> {
                        try {
                            Thread.sleep(BATCH_DELAY.toMillis());
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        return scorer.score(batch, started);
                    }, settings, "it-slow", state);
                 KafkaProducer<String, byte[]> producer = cluster.producer()) {
                for (Question q : questions) {
                    producer.send(kafka.topics().questions().record(q.getId(), q));
                }
                producer.flush();
                cluster.readCommitted(kafka.topics().predictions().name(), Duration.ofSeconds(90), r -> r.size() >= questions.size());
                Thread.sleep(2000); // a duplicate would show up now
                List<ConsumerRecord<String, byte[]>> out = cluster.readCommitted(kafka.topics().predictions().name(), Duration.ofSeconds(3),
                        r -> false);
                assertThat(out.stream().map(ConsumerRecord::key).toList())
                        .containsExactlyInAnyOrderElementsOf(questions.stream().map(Question::getId).toList());
                assertThat(app.ready()).isTrue();
            }
        } finally {
            root.detachAppender(log);
        }
        List<String> troubles = new ArrayList<>();
        for (ILoggingEvent e : log.list) {
            if (!e.getThreadName().contains("it-slow") && !e.getFormattedMessage().contains("it-slow")) {
                continue;   // another test's leftovers in this JVM
            }
            String text = (e.getFormattedMessage() + " " + (e.getThrowableProxy() == null ? "" : ThrowableProxyUtil.asString(e.getThrowableProxy())))
                    .toLowerCase(Locale.ROOT);
            if (text.contains("fenced") || text.contains("transaction timed out") || text.contains("taskmigrated")
                    || text.contains("stream thread failed") || text.contains("invalidproducerepoch")) {
                troubles.add(e.getFormattedMessage());
            }
        }
        assertThat(troubles).as("fencing or a failed thread in the log").isEmpty();
    }
}
