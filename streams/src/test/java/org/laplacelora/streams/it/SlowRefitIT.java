package org.laplacelora.streams.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.laplace.posterior.PriorPrecision;
import org.laplacelora.model.refit.PosteriorRefit;
import org.laplacelora.model.refit.RefitMode;
import org.laplacelora.schemas.avro.LabelledOutcome;
import org.laplacelora.schemas.avro.RefitReport;
import org.laplacelora.schemas.registry.InProcessSchemaRegistry;
import org.laplacelora.streams.ScorerFixture;
import org.laplacelora.streams.kafka.EmbeddedKafka;
import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.kafka.Topics;
import org.laplacelora.streams.posteriors.PosteriorVersions;
import org.laplacelora.streams.posteriors.ServedModel;
import org.laplacelora.streams.refit.RefitRequests;
import org.laplacelora.streams.refit.RefitterApp;
import org.laplacelora.streams.refit.RefitterSettings;
import org.laplacelora.streams.scorer.QuestionScorer;

/**
 * A refit that runs longer than the refitter's transaction timeout (3 s here), on a real KRaft cluster with
 * exactly-once processing: it runs on the refitter's worker, outside any transaction, so the stream thread keeps
 * committing — a request sent meanwhile is answered at once, and a read_committed reader of refit-reports sees
 * that answer while the refit still runs — and its result is published once, as one version, fencing nothing.
 */
class SlowRefitIT {
    private static final Duration TRANSACTION_TIMEOUT = Duration.ofSeconds(3);

    @Test
    void aRefitLongerThanTheTransactionTimeoutPublishesOneVersionAndBlocksNoReader(@TempDir Path state) throws Exception {
        try (KafkaCluster cluster = new KafkaCluster();
             InProcessSchemaRegistry registry = InProcessSchemaRegistry.start(0, null);
             QuestionScorer fixture = ScorerFixture.scorer()) {
            KafkaSettings kafka = KafkaSettings.of(cluster.bootstrap(), registry.url(), null, (short) 1);
            Topics topics = kafka.topics();
            EmbeddedKafka.createTopics(cluster.bootstrap(), topics.newTopics(1, (short) 1));
            ServedModel served = fixture.served();
            served.swap(LaplacePosterior.fromBytes(served.posterior().toBytes()).withPrior(PriorPrecision.of(1e4)), 0);
            List<LabelledOutcome> outcomes = ScorerFixture.driftedOutcomes(fixture);
            // Online updates of many steps, for two forgetting factors: several seconds on the fixture model, longer than the
            // transaction timeout.
            PosteriorRefit.Settings slow = PosteriorRefit.Settings.defaults().withMode(RefitMode.ONLINE).withForgetting(List.of(1.0, 0.5))
                    .withSteps(400).withBatchSize(4).withMinGate(3).withTuningSamples(1000).withAllowBoundary(true);
            RefitterSettings settings = new RefitterSettings(100, Duration.ofDays(1), 0, Duration.ZERO, Duration.ofMillis(200),
                    Duration.ofMinutes(5), 8, 2, 5, 4096, slow);
            Map<String, Object> shortTransactions = Map.of(
                    StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG), (int) TRANSACTION_TIMEOUT.toMillis());
            try (RefitterApp refitter = RefitterApp.start(kafka, served, settings, "it-slow-refitter", state, shortTransactions);
                 KafkaProducer<String, byte[]> producer = cluster.producer()) {
                for (LabelledOutcome o : outcomes) {
                    producer.send(topics.labelledOutcomes().record(o.getPrediction().getQuestionId(), o));
                }
                producer.flush();
                Thread.sleep(1000);
                RefitRequests.send(kafka, RefitRequests.refitNow("it"));
                Thread.sleep(1500);                                       // the refit is running by now
                RefitRequests.send(kafka, RefitRequests.refitNow("it-again"));
                long askedAt = System.nanoTime();
                List<RefitReport> first = reports(cluster, topics, 1);
                double answeredAfter = (System.nanoTime() - askedAt) / 1e9;
                assertThat(first.get(0).getAccepted()).isFalse();
                assertThat(first.get(0).getReason()).contains("has been running");

                List<RefitReport> both = reports(cluster, topics, 2);
                RefitReport published = both.get(1);
                assertThat(published.getAccepted()).as(published.getReason()).isTrue();
                assertThat(published.getVersion()).isEqualTo(1);
                assertThat(published.getSeconds()).as("the refit outlasted the transaction timeout (%.1f s)", published.getSeconds())
                        .isGreaterThan(TRANSACTION_TIMEOUT.toSeconds());
                assertThat(answeredAfter).as("the busy answer came while the refit ran").isLessThan(published.getSeconds());

                List<ConsumerRecord<String, byte[]>> posteriors = cluster.readCommitted(topics.posteriors().name(), Duration.ofSeconds(10),
                        r -> r.stream().anyMatch(x -> PosteriorVersions.isManifestKey(x.key())));
                assertThat(posteriors).filteredOn(r -> PosteriorVersions.isManifestKey(r.key())).extracting(ConsumerRecord::key)
                        .as("one version, one manifest").containsExactly(PosteriorVersions.manifestKey(1));
                assertThat(posteriors).allMatch(r -> PosteriorVersions.versionOf(r.key()) == 1);
                KafkaCluster.waitFor(() -> served.posteriorVersion() == 1, "the refitter adopts version 1 once it is committed");

                // Nothing was fenced: the app answers the next request as before.
                RefitRequests.send(kafka, RefitRequests.rollback(0, "it"));
                RefitReport rollback = reports(cluster, topics, 3).get(2);
                assertThat(rollback.getAccepted()).as(rollback.getReason()).isTrue();
                assertThat(rollback.getVersion()).isEqualTo(2);
            }
        }
    }

    private static List<RefitReport> reports(KafkaCluster cluster, Topics topics, int atLeast) {
        return cluster.readCommitted(topics.refitReports().name(), Duration.ofSeconds(120), r -> r.size() >= atLeast).stream()
                .map(r -> topics.refitReports().deserialize(r.value())).toList();
    }
}
