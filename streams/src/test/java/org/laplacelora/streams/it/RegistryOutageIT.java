package org.laplacelora.streams.it;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.laplacelora.model.tasks.Dataset;
import org.laplacelora.model.tasks.Example;
import org.laplacelora.model.tasks.TaskKind;
import org.laplacelora.model.tasks.TaskQuestion;
import org.laplacelora.streams.ScorerFixture;
import org.laplacelora.streams.calibrator.CalibratorApp;
import org.laplacelora.streams.calibrator.CalibratorSettings;
import org.laplacelora.streams.kafka.EmbeddedKafka;
import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.kafka.StreamsRunner;
import org.laplacelora.streams.produce.QuestionProducer;
import org.laplacelora.streams.scorer.QuestionScorer;
import org.laplacelora.streams.scorer.ScorerApp;
import org.laplacelora.streams.scorer.ScorerSettings;
import org.slf4j.LoggerFactory;

/**
 * The schema registry, a process of its own ({@code stack --registry-only}), killed with SIGKILL mid-run and
 * started again 30 s later on the same port and data. While it is gone, a scorer and a calibrator start on a backlog
 * published before (they know no schema yet, so they must ask it) and a new producer publishes: all of them wait, with a
 * growing backoff, and go on once it answers. Nothing is dead-lettered for the outage, nothing lost, nothing
 * doubled. The two are named instances ({@code --instance-id}), so the member of each stream thread replaced after a
 * failure is taken out of its group and the new thread gets the partitions at once, not after the old one's session.
 */
class RegistryOutageIT {
    private static final Duration START = Duration.ofSeconds(120);
    private static final Duration OUTAGE = Duration.ofSeconds(30);

    @Test
    void producersScorerAndCalibratorWaitOutARegistryOutage(@TempDir Path registryData, @TempDir Path state) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String[] registryArgs = {"stack", "--registry-only", "--registry-port", String.valueOf(port), "--data-dir", registryData.toString()};
        List<Example> fixture = Dataset.read(TaskKind.WINOGRANDE, ScorerFixture.winogrande()).examples();
        try (KafkaCluster cluster = new KafkaCluster();
             QuestionScorer scorer = ScorerFixture.scorer()) {
            String url = "http://127.0.0.1:" + port;
            ChildJvm registry = new ChildJvm(registryArgs);
            try {
                registry.awaitLine(l -> l.startsWith("schema-registry "), START);
                KafkaSettings before = KafkaSettings.of(cluster.bootstrap(), url, null, (short) 1);
                EmbeddedKafka.createTopics(cluster.bootstrap(), before.topics().newTopics(2, (short) 1));
                ScorerSettings scoring = ScorerSettings.defaults();
                // A backlog, registered while the registry is up, that the services (not started yet) will have to fetch schemas for.
                try (QuestionProducer producer = new QuestionProducer(before, Duration.ofMillis(10), 1.0, 0)) {
                    publish(producer, fixture, "backlog-");
                }
                ListAppender<ILoggingEvent> log = new ListAppender<>();
                Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
                log.start();
                root.addAppender(log);
                registry.kill();
                long down = System.nanoTime();
                // Fresh settings: nothing cached, as in processes started during the outage; they start while it lasts.
                ExecutorService starting = Executors.newFixedThreadPool(2);
                Future<ScorerApp> scorerStarting = starting.submit(() -> ScorerApp.start(KafkaSettings.of(cluster.bootstrap(), url, null,
                        (short) 1), scorer, scoring, "it-outage-scorer", state.resolve("scorer"), StreamsRunner.staticMember("scorer-1")));
                Future<CalibratorApp> calibratorStarting = starting.submit(() -> CalibratorApp.start(KafkaSettings.of(cluster.bootstrap(), url,
                        null, (short) 1), CalibratorSettings.defaults().withWindowSize(10), "it-outage-calibrator", state.resolve("calibrator"),
                        StreamsRunner.staticMember("calibrator-1")));
                starting.shutdown();
                try (QuestionProducer producer = new QuestionProducer(KafkaSettings.of(cluster.bootstrap(), url, null, (short) 1),
                        Duration.ofMillis(100), 1.0, 0)) {
                    Thread publishing = new Thread(() -> publish(producer, fixture, "during-"), "publish-during-outage");
                    publishing.start();
                    Thread.sleep(Math.max(0, OUTAGE.toMillis() - (System.nanoTime() - down) / 1_000_000));
                    assertThat(producer.questionsSent()).as("nothing can be published while the registry is gone").isZero();
                    registry = new ChildJvm(registryArgs);
                    registry.awaitLine(l -> l.startsWith("schema-registry "), START);
                    publishing.join(START.toMillis());
                    producer.close();
                }
                try (ScorerApp second = scorerStarting.get(3, TimeUnit.MINUTES);
                     CalibratorApp calibrating = calibratorStarting.get(3, TimeUnit.MINUTES)) {
                    int all = 2 * fixture.size();
                    List<ConsumerRecord<String, byte[]>> predictions = KafkaCluster.readAllOnce(cluster.bootstrap(), "predictions", all, Duration.ofSeconds(180));
                    List<ConsumerRecord<String, byte[]>> outcomes = KafkaCluster.readAllOnce(cluster.bootstrap(), "labelled-outcomes", all, Duration.ofSeconds(180));
                    assertThat(KafkaCluster.duplicates(predictions)).isEmpty();
                    assertThat(KafkaCluster.keys(predictions)).hasSize(all);
                    assertThat(KafkaCluster.duplicates(outcomes)).isEmpty();
                    assertThat(KafkaCluster.keys(outcomes)).hasSize(all);
                    assertThat(KafkaCluster.readCommitted(cluster.bootstrap(), "questions-dlq", Duration.ofSeconds(3), r -> false))
                            .as("nothing dead-lettered for the outage").isEmpty();
                    assertThat(KafkaCluster.readCommitted(cluster.bootstrap(), "labels-dlq", Duration.ofSeconds(3), r -> false)).isEmpty();
                    root.detachAppender(log);
                    List<String> waits = log.list.stream().map(ILoggingEvent::getFormattedMessage).filter(m -> m.contains("a passing failure"))
                            .toList();
                    assertThat(waits).as("the scorer and the calibrator met the outage and waited").anyMatch(m -> m.startsWith("it-outage-scorer"))
                            .anyMatch(m -> m.startsWith("it-outage-calibrator"));
                    List<String> members = log.list.stream().map(ILoggingEvent::getFormattedMessage)
                            .filter(m -> m.contains("the replaced stream thread's member")).toList();
                    assertThat(members).as("each replaced thread's member taken out of its group").isNotEmpty()
                            .allMatch(m -> m.startsWith("it-outage-scorer: removed scorer-1-") || m.startsWith("it-outage-calibrator: removed calibrator-1-"))
                            .anyMatch(m -> m.startsWith("it-outage-scorer")).anyMatch(m -> m.startsWith("it-outage-calibrator"));
                }
            } finally {
                registry.close();
            }
        }
    }

    private static void publish(QuestionProducer producer, List<Example> fixture, String prefix) {
        for (Example e : fixture) {
            TaskQuestion q = e.question();
            producer.send(new Example(new TaskQuestion(prefix + q.id(), q.task(), q.text(), q.choices(), q.context(), q.prompt(), q.answers()),
                    e.label()), Map.of());
        }
    }



}
