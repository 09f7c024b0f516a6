package org.laplacelora.streams.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.laplace.posterior.PriorPrecision;
import org.laplacelora.model.refit.PosteriorRefit;
import org.laplacelora.model.refit.RefitMode;
import org.laplacelora.schemas.avro.LabelledOutcome;
import org.laplacelora.schemas.avro.PosteriorChunk;
import org.laplacelora.schemas.avro.PosteriorManifest;
import org.laplacelora.schemas.avro.Prediction;
import org.laplacelora.schemas.avro.Question;
import org.laplacelora.schemas.avro.RefitReport;
import org.laplacelora.schemas.registry.InProcessSchemaRegistry;
import org.laplacelora.streams.ScorerFixture;
import org.laplacelora.streams.kafka.EmbeddedKafka;
import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.kafka.StreamsRunner;
import org.laplacelora.streams.kafka.Topics;
import org.laplacelora.streams.posteriors.PosteriorVersions;
import org.laplacelora.streams.posteriors.PosteriorWatcher;
import org.laplacelora.streams.posteriors.ServedModel;
import org.laplacelora.streams.refit.RefitRequests;
import org.laplacelora.streams.refit.RefitterApp;
import org.laplacelora.streams.refit.RefitterSettings;
import org.laplacelora.streams.scorer.QuestionScorer;
import org.laplacelora.streams.scorer.ScorerTopology;

/**
 * The refitter, a scorer following the posteriors topic, and manual requests, on a real (in-process)
 * KRaft cluster with exactly-once processing. (Drift → refit → lower windowed ECE end to end is DemoIT.)
 */
class RefitterIT {
    private static KafkaCluster cluster;
    private static InProcessSchemaRegistry registry;
    private static KafkaSettings kafka;
    private static Topics topics;
    private static ServedModel refitterScorer;
    private static QuestionScorer questionScorer;
    private static ServedModel scorer;
    private static List<LabelledOutcome> outcomes;

    @BeforeAll
    static void start() throws Exception {
        cluster = new KafkaCluster();
        registry = InProcessSchemaRegistry.start(0, null);
        kafka = KafkaSettings.of(cluster.bootstrap(), registry.url(), null, (short) 1);
        topics = kafka.topics();
        EmbeddedKafka.createTopics(cluster.bootstrap(), topics.newTopics(2, (short) 1));
        questionScorer = ScorerFixture.scorer();
        scorer = questionScorer.served();
        refitterScorer = ScorerFixture.scorer().served();
        outcomes = ScorerFixture.driftedOutcomes(questionScorer);
        LaplacePosterior nearMap = LaplacePosterior.fromBytes(scorer.posterior().toBytes()).withPrior(PriorPrecision.of(1e4));
        scorer.swap(nearMap, 0);
        refitterScorer.swap(nearMap, 0);
    }

    @AfterAll
    static void stop() throws Exception {
        questionScorer.close();
        refitterScorer.close();
        registry.close();
        cluster.close();
    }

    /** Curvature refits (the online ones have OnlineRefitIT), at least 3 gating rows, λ on its range's edge allowed. */
    private static RefitterSettings settings() {
        return new RefitterSettings(100, Duration.ofDays(1), 0, Duration.ZERO, Duration.ofMillis(200), Duration.ofMinutes(5), 8, 2, 5, 4096,
                PosteriorRefit.Settings.defaults().withMode(RefitMode.CURVATURE).withMinGate(3).withBatchSize(4).withTuningSamples(1000)
                        .withAllowBoundary(true));
    }

    private static List<RefitReport> reports(int atLeast) {
        return cluster.readCommitted(topics.refitReports().name(), Duration.ofSeconds(120), r -> r.size() >= atLeast).stream()
                .map(r -> topics.refitReports().deserialize(r.value())).toList();
    }

    /**
     * A refit publishes version 1; the scorer's watcher swaps it in and its predictions carry it; a rollback to
     * version 0 becomes version 2; a corrupt version 3 written by hand is ignored and version 2 keeps serving.
     * The refitter is then stopped and started again on an empty state directory: its buffer comes back from
     * Kafka (the next refit sees all 20 labelled questions), and it numbers its next version after the topic's.
     */
    @Test
    void versionsFlowFromTheRefitterToTheScorerAndTheBufferSurvivesARestart(@TempDir Path first, @TempDir Path second,
                                                                         @TempDir Path scorerState) throws Exception {
        try (KafkaProducer<String, byte[]> producer = cluster.producer();
             PosteriorWatcher watcher = new PosteriorWatcher(kafka, scorer, "it-scorer").start()) {
            assertThat(watcher.awaitCaughtUp(Duration.ofSeconds(60))).isTrue();
            try (RefitterApp refitter = RefitterApp.start(kafka, refitterScorer, settings(), "it-refitter", first);
                 StreamsRunner scoring = StreamsRunner.start(ScorerTopology.build(topics, questionScorer,
                         new ScorerTopology.Batching(4, Duration.ofMillis(100), 2)), kafka, "it-refit-scorer", scorerState,
                         Duration.ofMillis(100), Map.of())) {
                for (LabelledOutcome o : outcomes) {
                    producer.send(topics.labelledOutcomes().record(o.getPrediction().getQuestionId(), o));
                }
                producer.flush();
                Thread.sleep(1000);
                assertThat(cli("refit", "--now")).contains("refit requested");
                RefitReport r1 = reports(1).get(0);
                assertThat(r1.getAccepted()).as(r1.getReason()).isTrue();
                assertThat(r1.getVersion()).isEqualTo(1);
                assertThat(r1.getBufferSize()).isEqualTo(20);
                KafkaCluster.waitFor(() -> scorer.posteriorVersion() == 1, "the scorer swaps in version 1");
                assertThat(predictionsOf("v1-", 4)).allSatisfy(p -> assertThat(p.getPosteriorVersion()).isEqualTo(1));

                assertThat(cli("posterior", "rollback", "0")).contains("rollback to version 0 requested");
                RefitReport r2 = reports(2).get(1);
                assertThat(r2.getAccepted()).as(r2.getReason()).isTrue();
                assertThat(r2.getVersion()).isEqualTo(2);
                KafkaCluster.waitFor(() -> scorer.posteriorVersion() == 2, "the scorer swaps in version 2");
                assertThat(scorer.posterior().prior().lambda()).as("version 0's posterior").isEqualTo(1e4);

                // A corrupt version: its second chunk is not what the manifest's sha256 says.
                byte[] file = scorer.posterior().toBytes();
                List<PosteriorChunk> chunks = PosteriorVersions.split(3, file, 4096);
                chunks.get(1).getData().array()[7] ^= 1;
                for (PosteriorChunk c : chunks) {
                    producer.send(topics.posteriors().record(PosteriorVersions.chunkKey(3, c.getIndex()), c));
                }
                producer.send(topics.posteriors().record(PosteriorVersions.manifestKey(3),
                        PosteriorManifest.newBuilder().setVersion(3).setSha256(PosteriorVersions.sha256(file)).setChunks(chunks.size())
                                .setBytes(file.length).setModel("m").setAdapter("a").setPriorPrecision(1).setExamples(1).setFactorRank(1)
                                .setConvention("reduce").setTrigger("corrupt by hand").setCreatedAt(Instant.now()).build()));
                producer.flush();
                KafkaCluster.waitFor(() -> watcher.rejections() == 1, "the scorer's watcher rejects version 3");
                assertThat(scorer.posteriorVersion()).isEqualTo(2);
                javax.management.ObjectName bean = new javax.management.ObjectName(
                        "org.laplacelora:type=PosteriorWatcher,name=" + javax.management.ObjectName.quote("it-scorer"));
                var jmx = java.lang.management.ManagementFactory.getPlatformMBeanServer();
                assertThat(jmx.getAttribute(bean, "Rejections")).as("the rejection metric").isEqualTo(1L);
                assertThat(jmx.getAttribute(bean, "ServingVersion")).isEqualTo(2L);
                assertThat(predictionsOf("v2-", 4)).allSatisfy(p -> assertThat(p.getPosteriorVersion()).isEqualTo(2));
            }
            try (RefitterApp refitter = RefitterApp.start(kafka, refitterScorer, settings(), "it-refitter", second)) {
                RefitRequests.send(kafka, RefitRequests.refitNow("it"));
                RefitReport r3 = reports(3).get(2);
                assertThat(r3.getBufferSize()).as("restored from the changelog on an empty state directory").isEqualTo(20);
                assertThat(r3.getAccepted()).as(r3.getReason()).isTrue();
                assertThat(r3.getVersion()).as("after every version on the topic, the corrupt one too").isEqualTo(4);
                KafkaCluster.waitFor(() -> scorer.posteriorVersion() == 4, "the scorer swaps in version 4");
                assertThat(refitter.watcher().manifests()).extracting(PosteriorManifest::getVersion).containsExactly(1L, 2L, 3L, 4L);
                com.fasterxml.jackson.databind.JsonNode list = new com.fasterxml.jackson.databind.ObjectMapper()
                        .readTree(cli("posterior", "list", "--json"));
                assertThat(list).extracting(v -> v.get("version").asLong()).containsExactly(1L, 2L, 3L, 4L);
                assertThat(list).extracting(v -> v.get("status").asText().split(":")[0]).containsExactly("ok", "ok", "invalid", "ok");
                assertThat(list.get(1).get("trigger").asText()).startsWith("rollback to version 0");
                assertThat(list.get(0).get("held_out_nll_after").asDouble()).isLessThan(list.get(0).get("held_out_nll_before").asDouble());
            }
        }
    }

    /** Runs a command of the app against the test cluster; returns what it printed. */
    private static String cli(String... args) {
        picocli.CommandLine cl = org.laplacelora.streams.cli.LaplaceLora.commandLine();
        java.io.StringWriter out = new java.io.StringWriter();
        cl.setOut(new java.io.PrintWriter(out, true));
        List<String> all = new java.util.ArrayList<>(List.of(args));
        all.addAll(List.of("--bootstrap-servers", cluster.bootstrap(), "--schema-registry-url", registry.url()));
        assertThat(cl.execute(all.toArray(String[]::new))).as(String.join(" ", args)).isZero();
        return out.toString();
    }

    /** Sends {@code n} questions with ids prefixed and returns their predictions. */
    private static List<Prediction> predictionsOf(String prefix, int n) throws Exception {
        try (KafkaProducer<String, byte[]> producer = cluster.producer()) {
            for (Question q : ScorerFixture.questions().subList(0, n)) {
                Question renamed = Question.newBuilder(q).setId(prefix + q.getId()).build();
                producer.send(topics.questions().record(renamed.getId(), renamed));
            }
        }
        Predicate<ConsumerRecord<String, byte[]>> ours = r -> r.key().startsWith(prefix);
        return cluster.readCommitted(topics.predictions().name(), Duration.ofSeconds(60), r -> r.stream().filter(ours).count() >= n).stream()
                .filter(ours).map(r -> topics.predictions().deserialize(r.value())).toList();
    }
}
