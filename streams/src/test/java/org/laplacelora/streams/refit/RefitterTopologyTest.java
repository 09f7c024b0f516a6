package org.laplacelora.streams.refit;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.laplace.posterior.PriorPrecision;
import org.laplacelora.model.refit.PosteriorRefit;
import org.laplacelora.model.refit.RefitMode;
import org.laplacelora.schemas.avro.DriftEvent;
import org.laplacelora.schemas.avro.LabelledOutcome;
import org.laplacelora.schemas.avro.PosteriorChunk;
import org.laplacelora.schemas.avro.PosteriorManifest;
import org.laplacelora.schemas.avro.RefitReport;
import org.laplacelora.schemas.avro.RefitRequest;
import org.laplacelora.schemas.registry.HttpSchemaRegistry;
import org.laplacelora.schemas.registry.InProcessSchemaRegistry;
import org.laplacelora.schemas.registry.RegistryConfig;
import org.laplacelora.streams.ScorerFixture;
import org.laplacelora.streams.kafka.TopicNames;
import org.laplacelora.streams.kafka.Topics;
import org.laplacelora.streams.posteriors.PosteriorVersions;
import org.laplacelora.streams.posteriors.ServedModel;
import org.laplacelora.streams.scorer.QuestionScorer;
import org.laplacelora.streams.telemetry.Telemetry;

/**
 * The refitter's topology on the real fixture model: 20 WinoGrande questions labelled against the model's
 * own answers (a drift the posterior in service, near the MAP, is overconfident on).
 */
class RefitterTopologyTest {
    private static QuestionScorer questionScorer;
    private static ServedModel scorer;
    private static LaplacePosterior original;
    private static InProcessSchemaRegistry registryServer;
    private static Topics topics;
    private static List<LabelledOutcome> outcomes;

    @BeforeAll
    static void setUp() throws Exception {
        questionScorer = ScorerFixture.scorer();
        scorer = questionScorer.served();
        original = LaplacePosterior.fromBytes(scorer.posterior().toBytes()).withPrior(PriorPrecision.of(1e4));
        registryServer = InProcessSchemaRegistry.start(0, null);
        topics = Topics.of(TopicNames.defaults(), new HttpSchemaRegistry(RegistryConfig.of(registryServer.url())));
        outcomes = ScorerFixture.driftedOutcomes(questionScorer);
    }

    @AfterAll
    static void tearDown() {
        registryServer.close();
        questionScorer.close();
    }

    @BeforeEach
    void reset() throws Exception {
        scorer.swap(original, 0);
    }

    /**
     * Curvature refits with 3 gating rows at least (a buffer of 14); answers that are all wrong are best made 50/50,
     * with λ at the bottom of its range, allowed here.
     */
    private static RefitterSettings settings(int bufferSize, int keep, double margin) {
        return new RefitterSettings(bufferSize, Duration.ofDays(1), 0, Duration.ZERO, Duration.ofSeconds(1), Duration.ofSeconds(30), 8, 2,
                keep, 4096, PosteriorRefit.Settings.defaults().withMode(RefitMode.CURVATURE).withMinGate(3).withBatchSize(4)
                        .withTuningSamples(1000).withGateMargin(margin).withAllowBoundary(true));
    }

    private static final class Harness implements AutoCloseable {
        final TopologyTestDriver driver;
        final Refitter refitter;
        final TestInputTopic<String, LabelledOutcome> outcomes;
        final TestInputTopic<String, DriftEvent> drift;
        final TestInputTopic<String, RefitRequest> requests;
        final TestOutputTopic<String, SpecificRecord> posteriors;
        final TestOutputTopic<String, RefitReport> reports;

        Harness(Path state, RefitterSettings settings) throws Exception {
            Properties p = new Properties();
            p.put(StreamsConfig.APPLICATION_ID_CONFIG, "refitter-test");
            p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
            p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
            p.put(StreamsConfig.STATE_DIR_CONFIG, state.toString());
            refitter = new Refitter(scorer, null);
            driver = new TopologyTestDriver(RefitterTopology.build(topics, refitter, settings), p);
            this.outcomes = driver.createInputTopic(topics.labelledOutcomes().name(), Serdes.String().serializer(),
                    topics.labelledOutcomes().valueSerde().serializer());
            this.drift = driver.createInputTopic(topics.driftEvents().name(), Serdes.String().serializer(),
                    topics.driftEvents().valueSerde().serializer());
            this.requests = driver.createInputTopic(topics.refitRequests().name(), Serdes.String().serializer(),
                    topics.refitRequests().valueSerde().serializer());
            this.posteriors = driver.createOutputTopic(topics.posteriors().name(), Serdes.String().deserializer(),
                    topics.posteriors().valueSerde().deserializer());
            this.reports = driver.createOutputTopic(topics.refitReports().name(), Serdes.String().deserializer(),
                    topics.refitReports().valueSerde().deserializer());
        }

        void sendOutcomes(List<LabelledOutcome> list) {
            list.forEach(o -> outcomes.pipeInput(o.getPrediction().getQuestionId(), o));
        }

        void request(RefitRequest r) {
            requests.pipeInput(r.getAction(), r);
        }

        void drift(long atOutcome, long version) {
            drift.pipeInput("page-hinkley", DriftEvent.newBuilder().setDetector("page-hinkley").setMethod("laplace").setStatistic(30)
                    .setThreshold(25).setAtOutcome(atOutcome).setPosteriorVersion(version).setDetectedAt(Instant.now()).build());
        }

        void labelFreeDrift(long atOutcome, long version) {
            drift.pipeInput("epistemic-rise", DriftEvent.newBuilder().setDetector("epistemic-rise").setMethod("laplace").setStatistic(9)
                    .setThreshold(5).setAtOutcome(atOutcome).setPosteriorVersion(version).setKind("label-free").setAtQuestion("q9")
                    .setDetectedAt(Instant.now()).build());
        }

        void advance(Duration d) {
            driver.advanceWallClockTime(d);
        }

        /** The next report, letting wall-clock time pass (a refit runs on the refitter's worker) until one comes. */
        RefitReport awaitReport() throws InterruptedException {
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (reports.isEmpty()) {
                assertThat(System.nanoTime()).as("a refit report within 120 s").isLessThan(deadline);
                Thread.sleep(20);
                driver.advanceWallClockTime(Duration.ofMillis(250));
            }
            return reports.readValue();
        }

        @Override
        public void close() {
            driver.close();
            refitter.close();
        }
    }

    /** Chunks and manifests by version, in the order they came, and tombstoned keys. */
    private record Published(Map<Long, List<PosteriorChunk>> chunks, Map<Long, PosteriorManifest> manifests, List<String> tombstones,
                             List<String> order) {
        static Published read(TestOutputTopic<String, SpecificRecord> topic) {
            Published p = new Published(new HashMap<>(), new HashMap<>(), new ArrayList<>(), new ArrayList<>());
            for (KeyValue<String, SpecificRecord> kv : topic.readKeyValuesToList()) {
                p.order.add(kv.key);
                long v = PosteriorVersions.versionOf(kv.key);
                if (kv.value == null) {
                    p.tombstones.add(kv.key);
                } else if (kv.value instanceof PosteriorManifest m) {
                    p.manifests.put(v, m);
                } else {
                    p.chunks.computeIfAbsent(v, k -> new ArrayList<>()).add((PosteriorChunk) kv.value);
                }
            }
            return p;
        }

        byte[] file(long version) throws Exception {
            Map<Integer, PosteriorChunk> byIndex = new HashMap<>();
            chunks.get(version).forEach(c -> byIndex.put(c.getIndex(), c));
            return PosteriorVersions.assemble(manifests.get(version), byIndex);
        }
    }

    @Test
    void aManualRefitPublishesChunksThenTheManifestThenAReport(@TempDir Path state) throws Exception {
        try (Harness h = new Harness(state, settings(100, 5, 0.01))) {
            h.sendOutcomes(outcomes);
            h.request(RefitRequests.refitNow("test"));
            h.advance(Duration.ofSeconds(1));
            RefitReport report = h.awaitReport();
            assertThat(report.getAccepted()).as(report.getReason()).isTrue();
            assertThat(report.getVersion()).isEqualTo(1);
            assertThat(report.getTrigger()).isEqualTo("manual");
            assertThat(report.getBufferSize()).isEqualTo(20);
            assertThat(report.getFitExamples() + report.getHeldOutExamples()).isEqualTo(20);
            assertThat(report.getHeldOutAfter().getNll()).isLessThan(report.getHeldOutBefore().getNll() - 0.01);

            Published p = Published.read(h.posteriors);
            int chunks = p.chunks().get(1L).size();
            assertThat(chunks).isGreaterThan(1);
            assertThat(p.order().get(p.order().size() - 1)).as("manifest last").isEqualTo(PosteriorVersions.manifestKey(1));
            PosteriorManifest m = p.manifests().get(1L);
            assertThat(m.getChunks()).isEqualTo(chunks);
            assertThat(m.getTrigger()).isEqualTo("manual");
            assertThat(m.getModel()).isEqualTo(scorer.model().llama().identity());
            assertThat(m.getAdapter()).isEqualTo(original.info().adapterIdentity());
            assertThat(m.getAdapterFile()).as("a curvature refit of version 0 keeps the starting adapter").isNull();
            assertThat(m.getRefitMode()).isEqualTo("curvature");
            assertThat(report.getGateBefore().getMap().getN()).isEqualTo(report.getGateExamples()).isEqualTo(4);
            assertThat(report.getTuningExamples()).isEqualTo(4);
            assertThat(m.getHeldOutAfter().getNll()).isEqualTo(report.getHeldOutAfter().getNll());
            LaplacePosterior published = LaplacePosterior.fromBytes(p.file(1));
            assertThat(published.prior().lambda()).isEqualTo(m.getPriorPrecision()).isLessThan(1e4);
            assertThat(m.getExamples()).isEqualTo(report.getFitExamples());
            assertThat(scorer.posteriorVersion()).as("the refitter serves what it published").isEqualTo(1);
        }
    }

    @Test
    void theGateRejectsAndNothingIsPublished(@TempDir Path state) throws Exception {
        try (Harness h = new Harness(state, settings(100, 5, 100))) {
            h.sendOutcomes(outcomes);
            h.request(RefitRequests.refitNow("test"));
            h.advance(Duration.ofSeconds(1));
            RefitReport report = h.awaitReport();
            assertThat(report.getAccepted()).isFalse();
            assertThat(report.getReason()).contains("rejected").contains("margin 100");
            assertThat(report.getVersion()).as("the version that keeps serving").isZero();
            assertThat(report.getHeldOutBefore()).isNotNull();
            assertThat(h.posteriors.isEmpty()).isTrue();
            assertThat(scorer.posteriorVersion()).isZero();
        }
    }

    @Test
    void aBurstOfDriftEventsGivesOneRefitOnTheOutcomesSinceTheDrift(@TempDir Path state) throws Exception {
        try (Harness h = new Harness(state, settings(100, 5, 0.01))) {
            h.sendOutcomes(outcomes);
            h.drift(5, 0);
            h.advance(Duration.ofMillis(300));
            h.drift(9, 0);
            h.drift(7, 0);
            h.advance(Duration.ofMillis(300));
            assertThat(h.reports.isEmpty()).as("still debouncing").isTrue();
            h.advance(Duration.ofMillis(600));
            List<RefitReport> reports = new ArrayList<>(List.of(h.awaitReport()));
            h.advance(Duration.ofSeconds(2));
            reports.addAll(h.reports.readValuesToList());
            assertThat(reports).hasSize(1);
            assertThat(reports.get(0).getTrigger()).isEqualTo("drift (3 events)");
            assertThat(reports.get(0).getBufferSize()).as("outcomes from 5 − lookback 2 on").isEqualTo(20 - 3);
            h.drift(15, 0);   // detected on the old version, after the swap: stale
            h.advance(Duration.ofSeconds(5));
            assertThat(h.reports.isEmpty()).isTrue();
        }
    }

    @Test
    void rollbackRepublishesAnOldVersionAsANewOneAndOldVersionsAreRetired(@TempDir Path state) throws Exception {
        try (Harness h = new Harness(state, settings(100, 1, 0.01))) {
            byte[] initial = scorer.posterior().toBytes();
            h.sendOutcomes(outcomes);
            h.request(RefitRequests.refitNow("test"));
            h.advance(Duration.ofSeconds(1));
            assertThat(h.awaitReport().getVersion()).isEqualTo(1);
            Published first = Published.read(h.posteriors);

            h.request(RefitRequests.rollback(0, "test"));
            RefitReport report = h.reports.readValue();
            assertThat(report.getAccepted()).isTrue();
            assertThat(report.getVersion()).isEqualTo(2);
            Published second = Published.read(h.posteriors);
            assertThat(second.file(2)).as("version 2 is the starting posterior").isEqualTo(initial);
            assertThat(second.manifests().get(2L).getTrigger()).startsWith("rollback to version 0");
            assertThat(scorer.posteriorVersion()).isEqualTo(2);
            assertThat(scorer.posterior().prior().lambda()).isEqualTo(1e4);
            // keep 1: version 1's chunks and manifest are tombstoned
            List<String> v1 = new ArrayList<>();
            first.chunks().get(1L).forEach(c -> v1.add(PosteriorVersions.chunkKey(1, c.getIndex())));
            v1.add(PosteriorVersions.manifestKey(1));
            assertThat(second.tombstones()).containsExactlyInAnyOrderElementsOf(v1);

            h.request(RefitRequests.rollback(1, "test"));
            RefitReport refused = h.reports.readValue();
            assertThat(refused.getAccepted()).isFalse();
            assertThat(refused.getReason()).contains("rollback refused");
            assertThat(h.posteriors.isEmpty()).isTrue();
        }
    }

    @Test
    void theBufferIsBoundedAndKeptInAChangelog(@TempDir Path state) throws Exception {
        try (Harness h = new Harness(state, settings(12, 5, 100))) {
            h.sendOutcomes(outcomes);
            Map<String, byte[]> restored = new HashMap<>();
            h.driver.createOutputTopic("refitter-test-" + RefitterTopology.BUFFER_STORE + "-changelog", Serdes.String().deserializer(),
                    Serdes.ByteArray().deserializer()).readKeyValuesToList().forEach(kv -> {
                        if (kv.value == null) {
                            restored.remove(kv.key);
                        } else {
                            restored.put(kv.key, kv.value);
                        }
                    });
            assertThat(restored.keySet()).as("what a restarted instance restores: the newest 12 of 20")
                    .containsExactlyInAnyOrderElementsOf(java.util.stream.IntStream.range(8, 20).mapToObj(i -> RefitBuffer.key(i)).toList());
            h.request(RefitRequests.refitNow("test"));
            h.advance(Duration.ofSeconds(1));
            assertThat(h.awaitReport().getBufferSize()).isEqualTo(12);
        }
    }

    /**
     * Whatever arrives on the refitter's inputs (labelled-outcomes, drift-events, refit-requests): bytes that are
     * not Avro, a schema id the registry lacks, a record of another type, a tombstone. Each is skipped with a
     * warning; nothing is buffered or refitted for it, and the good records after it are.
     */
    @Test
    void hostileRecordsOnItsInputsAreSkippedAndItGoesOn(@TempDir Path state) throws Exception {
        try (Harness h = new Harness(state, settings(100, 5, 100))) {
            byte[] otherType = topics.labels().serialize(org.laplacelora.schemas.avro.Label.newBuilder().setQuestionId("x").setLabel(0)
                    .setLabelledAt(Instant.now()).build());
            for (String topic : List.of(topics.labelledOutcomes().name(), topics.driftEvents().name(), topics.refitRequests().name())) {
                TestInputTopic<String, byte[]> raw = h.driver.createInputTopic(topic, Serdes.String().serializer(),
                        Serdes.ByteArray().serializer());
                raw.pipeInput("x", "not avro".getBytes(java.nio.charset.StandardCharsets.UTF_8));
                raw.pipeInput("x", new byte[] {0, 0, 0, 0x27, 0x0F, 2});
                raw.pipeInput("x", otherType);
                raw.pipeInput("x", (byte[]) null);
            }
            for (int i = 0; i < 10; i++) {
                h.advance(Duration.ofMillis(500));
            }
            assertThat(h.reports.isEmpty()).as("no refit for any of them").isTrue();
            assertThat(h.posteriors.isEmpty()).isTrue();
            h.sendOutcomes(outcomes);
            h.request(RefitRequests.refitNow("test"));
            h.advance(Duration.ofSeconds(1));
            RefitReport report = h.awaitReport();
            assertThat(report.getBufferSize()).as("the 20 good outcomes, nothing else").isEqualTo(20);
            assertThat(report.getTrigger()).isEqualTo("manual");
        }
    }

    @Test
    void aLabelFreeDriftEventDoesNotStartARefit(@TempDir Path state) throws Exception {
        try (Harness h = new Harness(state, settings(100, 5, 0.01))) {
            h.sendOutcomes(outcomes);
            h.labelFreeDrift(5, 0);
            for (int i = 0; i < 10; i++) {
                h.advance(Duration.ofMillis(500));
                Thread.sleep(20);
            }
            assertThat(h.reports.isEmpty()).isTrue();
            assertThat(h.posteriors.isEmpty()).isTrue();
        }
    }

    /**
     * A change point detected while a drift refit runs, after the last outcome it was given (here a second shift): what the
     * refit learnt is what the stream was before it, so it is not published, and the drift trigger stays pending from the
     * change on — the next refit uses only the outcomes from there.
     */
    @Test
    void aDriftRefitOvertakenByAChangeIsNotPublishedAndTheRefitFromTheChangeFollows(@TempDir Path state) throws Exception {
        // The refitter learns that the worker is done at its next punctuation, which only advancing the clock runs: what is
        // sent before that comes while the refit runs, however fast it is. A curvature refit: the mode does not matter here.
        double overtakenBefore = overtakenCount();
        try (Harness h = new Harness(state, settings(100, 5, 0.01))) {
            h.sendOutcomes(outcomes);
            h.drift(5, 0);
            h.advance(Duration.ofMillis(1100));
            h.drift(25, 0);                        // a new onset, after the running refit's last outcome (19)
            h.sendOutcomes(outcomes.stream().map(o -> LabelledOutcome.newBuilder(o).setSequence(o.getSequence() + 20).build()).toList());
            RefitReport overtaken = h.awaitReport();
            assertThat(overtaken.getAccepted()).isFalse();
            assertThat(overtaken.getReason()).startsWith("overtaken: a change was detected at outcome 23 while it ran, after its last row (19)");
            assertThat(overtaken.getBufferSize()).as("outcomes from 5 − lookback 2 to 19").isEqualTo(17);
            assertThat(overtaken.getVersion()).isZero();
            assertThat(h.posteriors.isEmpty()).as("nothing published").isTrue();
            assertThat(overtakenCount()).as("counted apart from rejections, which raise an alert").isEqualTo(overtakenBefore + 1);

            RefitReport next = h.awaitReport();
            assertThat(next.getTrigger()).startsWith("drift");
            assertThat(next.getBufferSize()).as("outcomes from 25 − lookback 2 to 39").isEqualTo(17);
            assertThat(next.getAccepted()).as(next.getReason()).isTrue();
            assertThat(next.getVersion()).isEqualTo(1);
            assertThat(Published.read(h.posteriors).manifests()).containsOnlyKeys(1L);
        }
    }

    /** What Prometheus would scrape: the global registry counts only into the registries added to it. */
    private static double overtakenCount() {
        Counter c = Telemetry.prometheus().find(Telemetry.PREFIX + "refits").tag("outcome", "overtaken").counter();
        return c == null ? 0 : c.count();
    }

    /**
     * No detector marks the second change here (one that fired stays quiet until the next swap), but the outcomes
     * labelled while the refit ran show it: the served version, wrong on every row the refit learnt from, is right on
     * the latest 40 of them (the stream went back to what it was). The refit is not published; the next one uses the
     * latest outcomes, those that showed the change.
     */
    @Test
    void aDriftRefitIsOvertakenWhenTheServedVersionsAccuracyChangesWhileItRuns(@TempDir Path state) throws Exception {
        try (Harness h = new Harness(state, settings(100, 5, 0.01))) {
            h.sendOutcomes(outcomes);
            h.drift(5, 0);
            h.advance(Duration.ofMillis(1100));
            List<LabelledOutcome> since = new ArrayList<>();
            for (int k = 1; k <= 3; k++) {            // 20 more as before, then 40 that the served version gets right
                for (LabelledOutcome o : outcomes) {
                    since.add(LabelledOutcome.newBuilder(o).setSequence(o.getSequence() + 20 * k).setLabel(k == 1 ? o.getLabel() : 1 - o.getLabel())
                            .build());
                }
            }
            h.sendOutcomes(since);
            RefitReport overtaken = h.awaitReport();
            assertThat(overtaken.getAccepted()).isFalse();
            assertThat(overtaken.getReason()).startsWith("overtaken: version 0 was right on 100% of the latest 30 outcomes labelled while it "
                    + "ran, against 0% of the 17 it learnt from");
            assertThat(h.posteriors.isEmpty()).as("nothing published").isTrue();

            RefitReport next = h.awaitReport();
            assertThat(next.getTrigger()).startsWith("drift");
            assertThat(next.getBufferSize()).as("the latest 30, from outcome 50: after the change, which came at 40").isEqualTo(30);
        }
    }

    /**
     * An online refit (on the refitter's worker thread) moves the adapter: its version carries the adapter file with
     * the posterior, the refitter serves both, and a rollback to version 0 brings the starting adapter back.
     */
    @Test
    void anOnlineVersionCarriesItsAdapterAndARollbackRestoresTheStartingOne(@TempDir Path state) throws Exception {
        RefitterSettings online = settings(100, 5, 0.01).withRefit(settings(100, 5, 0.01).refit().withMode(RefitMode.ONLINE)
                .withForgetting(List.of(0.5, 0.25)).withSteps(30).withLearningRate(5e-3));
        try (Harness h = new Harness(state, online)) {
            h.sendOutcomes(outcomes);
            h.request(RefitRequests.refitNow("test"));
            h.advance(Duration.ofSeconds(1));
            RefitReport report = h.awaitReport();
            assertThat(report.getAccepted()).as(report.getReason()).isTrue();
            assertThat(report.getRefitMode()).isEqualTo("online");
            assertThat(report.getForgetting()).isIn(0.5, 0.25);
            assertThat(report.getCandidates()).as("one per forgetting factor, none diverged").hasSize(2);
            List<org.apache.kafka.streams.KeyValue<String, SpecificRecord>> records = h.posteriors.readKeyValuesToList();
            Map<Integer, PosteriorChunk> adapterChunks = new HashMap<>();
            Map<Integer, PosteriorChunk> posteriorChunks = new HashMap<>();
            PosteriorManifest m = null;
            for (var kv : records) {
                if (kv.value instanceof PosteriorManifest manifest) {
                    m = manifest;
                } else if (kv.value instanceof PosteriorChunk c) {
                    assertThat(kv.key).isEqualTo(PosteriorVersions.chunkKey(1, c.getPart(), c.getIndex()));
                    (c.getPart() == org.laplacelora.schemas.avro.VersionPart.ADAPTER ? adapterChunks : posteriorChunks).put(c.getIndex(), c);
                }
            }
            assertThat(m).isNotNull();
            assertThat(adapterChunks).isNotEmpty();
            assertThat(m.getAdapterFile().getChunks()).isEqualTo(adapterChunks.size());
            PosteriorVersions.Files files = PosteriorVersions.files(m,
                    Map.of(org.laplacelora.schemas.avro.VersionPart.POSTERIOR, posteriorChunks,
                            org.laplacelora.schemas.avro.VersionPart.ADAPTER, adapterChunks));
            LaplacePosterior published = LaplacePosterior.fromBytes(files.posterior());
            assertThat(m.getAdapter()).isEqualTo(published.info().adapterIdentity()).isNotEqualTo(original.info().adapterIdentity());
            assertThat(m.getTemperature()).isEqualTo(published.temperature());
            try (ServedModel.Lease serving = scorer.lease()) {
                assertThat(serving.number()).isEqualTo(1);
                assertThat(serving.adapter().identity()).as("the refitter serves the version's adapter").isEqualTo(m.getAdapter());
            }

            h.request(RefitRequests.rollback(0, "test"));
            RefitReport rollback = h.reports.readValue();
            assertThat(rollback.getAccepted()).as(rollback.getReason()).isTrue();
            PosteriorManifest back = Published.read(h.posteriors).manifests().get(2L);
            assertThat(back.getAdapterFile()).as("version 0 has no adapter of its own").isNull();
            assertThat(back.getAdapter()).isEqualTo(original.info().adapterIdentity());
            try (ServedModel.Lease serving = scorer.lease()) {
                assertThat(serving.number()).isEqualTo(2);
                assertThat(serving.adapter().identity()).isEqualTo(original.info().adapterIdentity());
            }
        }
    }
}
