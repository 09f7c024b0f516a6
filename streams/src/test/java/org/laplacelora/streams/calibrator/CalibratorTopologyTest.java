package org.laplacelora.streams.calibrator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.laplacelora.model.core.Categorical;
import org.laplacelora.model.metrics.Calibration;
import org.laplacelora.schemas.avro.CalibrationMetrics;
import org.laplacelora.schemas.avro.DeadLetter;
import org.laplacelora.schemas.avro.DriftEvent;
import org.laplacelora.schemas.avro.Label;
import org.laplacelora.schemas.avro.LabelledOutcome;
import org.laplacelora.schemas.avro.Prediction;
import org.laplacelora.schemas.avro.Question;
import org.laplacelora.schemas.registry.HttpSchemaRegistry;
import org.laplacelora.schemas.registry.InProcessSchemaRegistry;
import org.laplacelora.schemas.registry.RegistryConfig;
import org.laplacelora.streams.kafka.TopicNames;
import org.laplacelora.streams.kafka.Topics;

class CalibratorTopologyTest {
    private static InProcessSchemaRegistry registry;
    private static Topics topics;

    @BeforeAll
    static void setUp() throws Exception {
        registry = InProcessSchemaRegistry.start(0, null);
        topics = Topics.of(TopicNames.defaults(), new HttpSchemaRegistry(RegistryConfig.of(registry.url())));
    }

    @AfterAll
    static void tearDown() {
        registry.close();
    }

    private record Harness(TopologyTestDriver driver, TestInputTopic<String, byte[]> q, TestInputTopic<String, Prediction> p,
                           TestInputTopic<String, Label> l, TestOutputTopic<String, CalibrationMetrics> metrics,
                           TestOutputTopic<String, DriftEvent> drift, TestOutputTopic<String, LabelledOutcome> outcomes,
                           TestInputTopic<String, byte[]> rawLabels, TestOutputTopic<String, DeadLetter> labelsDlq)
            implements AutoCloseable {
        @Override
        public void close() {
            driver.close();
        }

        /** Moves every input topic's record time on: stream time moves when the next record comes. */
        void advance(Duration d) {
            q.advanceTime(d);
            p.advanceTime(d);
            l.advanceTime(d);
            rawLabels.advanceTime(d);
        }

        void predict(String id, int version, double... laplace) {
            p.pipeInput(id, prediction(id, version, laplace));
        }

        void label(String id, int label) {
            l.pipeInput(id, Label.newBuilder().setQuestionId(id).setLabel(label).setLabelledAt(Instant.now()).build());
        }

        void question(String id) {
            question(id, java.util.Map.of());
        }

        void question(String id, java.util.Map<String, String> attributes) {
            q.pipeInput(id, topics.questions().serialize(Question.newBuilder().setId(id).setTask("winogrande")
                    .setText("s _").setChoices(List.of("a", "b")).setProducedAt(Instant.now()).setAttributes(attributes).build()));
        }
    }

    static Prediction prediction(String id, int version, double... laplace) {
        List<Double> lp = new ArrayList<>();
        List<Double> map = new ArrayList<>();
        for (double v : laplace) {
            lp.add(v);
            map.add(v > 0.5 ? 0.99 : 0.01);   // MAP: the same answer, overconfident
        }
        int predicted = Categorical.argmax(laplace);
        return Prediction.newBuilder().setQuestionId(id).setTask("winogrande").setLaplace(lp).setMap(map).setTemperature(lp)
                .setPredicted(predicted).setConfidence(laplace[predicted]).setEntropy(0).setEpistemic(0)
                .setLogitMean(List.of(0.0, 0.0)).setLogitCovariance(List.of(0.0, 0.0, 0.0, 0.0)).setPosteriorVersion(version)
                .setModel("m").setAdapter("a").setQueueLatencyMs(0).setComputeLatencyMs(0).setBatchSize(1)
                .setScoredAt(Instant.now()).build();
    }

    private static Harness harness(Path state, CalibratorSettings settings) {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "calibrator-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.STATE_DIR_CONFIG, state.toString());
        TopologyTestDriver d = new TopologyTestDriver(CalibratorTopology.build(topics, settings), props);
        return new Harness(d,
                d.createInputTopic(topics.questions().name(), Serdes.String().serializer(), Serdes.ByteArray().serializer()),
                d.createInputTopic(topics.predictions().name(), Serdes.String().serializer(), topics.predictions().valueSerde().serializer()),
                d.createInputTopic(topics.labels().name(), Serdes.String().serializer(), topics.labels().valueSerde().serializer()),
                d.createOutputTopic(topics.calibrationMetrics().name(), Serdes.String().deserializer(),
                        topics.calibrationMetrics().valueSerde().deserializer()),
                d.createOutputTopic(topics.driftEvents().name(), Serdes.String().deserializer(), topics.driftEvents().valueSerde().deserializer()),
                d.createOutputTopic(topics.labelledOutcomes().name(), Serdes.String().deserializer(),
                        topics.labelledOutcomes().valueSerde().deserializer()),
                d.createInputTopic(topics.labels().name(), Serdes.String().serializer(), Serdes.ByteArray().serializer()),
                d.createOutputTopic(topics.labelsDlq().name(), Serdes.String().deserializer(), topics.labelsDlq().valueSerde().deserializer()));
    }

    /** Page-Hinkley standardised by a version's first 30 outcomes: these streams are short. */
    private static CalibratorSettings settings(int window) {
        return CalibratorSettings.defaults().withHorizon(Duration.ofSeconds(30)).withWindowSize(window).withPhMinOutcomes(30);
    }

    @Test
    void joinsWhateverTheArrivalOrder(@TempDir Path state) {
        try (Harness h = harness(state, settings(4))) {
            h.question("a");
            h.predict("a", 0, 0.8, 0.2);
            h.label("a", 0);                        // question, prediction, label
            h.label("b", 1);
            h.predict("b", 0, 0.3, 0.7);            // label before prediction, no question
            h.predict("c", 0, 0.6, 0.4);
            h.question("c");
            h.label("c", 1);                        // question after prediction
            h.label("d", 0);
            h.question("d");
            h.predict("d", 0, 0.9, 0.1);
            List<LabelledOutcome> out = h.outcomes().readValuesToList();
            assertThat(out).extracting(o -> o.getPrediction().getQuestionId()).containsExactly("a", "b", "c", "d");
            assertThat(out).extracting(LabelledOutcome::getSequence).containsExactly(0L, 1L, 2L, 3L);
            assertThat(out).extracting(LabelledOutcome::getLabel).containsExactly(0, 1, 1, 0);
            assertThat(out.get(0).getQuestion()).isNotNull();
            assertThat(out.get(1).getQuestion()).isNull();
            // the 4th outcome closes the window: metrics of all three methods, window + running + version
            List<CalibrationMetrics> m = h.metrics().readValuesToList();
            assertThat(m).hasSize(9);
            CalibrationMetrics window = m.stream().filter(x -> x.getMethod().equals("laplace") && x.getScope().equals("window")).findFirst().orElseThrow();
            Calibration expected = new Calibration().add(new double[] {0.8, 0.2}, 0).add(new double[] {0.3, 0.7}, 1)
                    .add(new double[] {0.6, 0.4}, 1).add(new double[] {0.9, 0.1}, 0);
            assertThat(window.getN()).isEqualTo(4);
            assertThat(window.getFirstOutcome()).isZero();
            assertThat(window.getLastOutcome()).isEqualTo(3);
            assertThat(window.getAccuracy()).isEqualTo(0.75);
            assertThat(window.getEce()).isCloseTo(expected.metrics().ece(), within(1e-12));
            assertThat(window.getNll()).isCloseTo(expected.metrics().nll(), within(1e-12));
            assertThat(window.getBrier()).isCloseTo(expected.metrics().brier(), within(1e-12));
            assertThat(window.getBins()).hasSize(10);
            CalibrationMetrics map = m.stream().filter(x -> x.getMethod().equals("map") && x.getScope().equals("window")).findFirst().orElseThrow();
            assertThat(map.getEce()).isCloseTo(0.24, within(1e-12));   // four answers at 0.99, three right
        }
    }

    @Test
    void labelsThatNeverComeOrComeLateAreCounted(@TempDir Path state) {
        try (Harness h = harness(state, settings(2))) {
            h.predict("x", 0, 0.7, 0.3);
            h.predict("y", 0, 0.7, 0.3);
            h.advance(Duration.ofSeconds(31));
            h.label("x", 0);                        // after the horizon (in the records' time): late, not an outcome
            h.predict("z1", 0, 0.7, 0.3);
            h.label("z1", 0);
            h.predict("z2", 0, 0.7, 0.3);
            h.label("z2", 1);
            assertThat(h.outcomes().readValuesToList()).extracting(o -> o.getPrediction().getQuestionId()).containsExactly("z1", "z2");
            CalibrationMetrics running = h.metrics().readValuesToList().stream()
                    .filter(x -> x.getScope().equals("running")).findFirst().orElseThrow();
            assertThat(running.getLabelsMissing()).isEqualTo(2);
            assertThat(running.getLabelsLate()).isEqualTo(1);
            assertThat(running.getN()).isEqualTo(2);
        }
    }

    /**
     * Per segment (the questions' attribute), running and windowed metrics equal to a brute-force calibration of that
     * segment's outcomes; values past the bound pooled as "(other)"; and a window carries the predictions still
     * awaiting their label with each method's mean top-1 confidence over them.
     */
    @Test
    void segmentsAndTheEstimatedAccuracyOfWhatAwaitsItsLabel(@TempDir Path state) {
        try (Harness h = harness(state, settings(5).withMaxSegments(3))) {   // q0-q3 and "gone"
            String[] segments = {"web", "web", "app", "batch"};
            double[][] p = {{0.8, 0.2}, {0.3, 0.7}, {0.6, 0.4}, {0.9, 0.1}};
            int[] labels = {0, 0, 1, 0};
            h.predict("open1", 0, 0.9, 0.1);        // never labelled (within the test)
            h.predict("open2", 0, 0.4, 0.6);
            h.predict("gone", 0, 0.7, 0.3);
            h.q().pipeInput("q0", topics.questions().serialize(Question.newBuilder().setId("elsewhere").setTask("winogrande")
                    .setText("s _").setChoices(List.of("a", "b")).setProducedAt(Instant.now())
                    .setAttributes(java.util.Map.of("segment", "hostile")).build()));   // keyed q0, id elsewhere: not q0's question
            for (int i = 0; i < 4; i++) {
                h.question("q" + i, java.util.Map.of("segment", segments[i]));
                h.question("q" + i, java.util.Map.of("segment", "hostile"));           // a second question with the id: the first counts
                h.predict("q" + i, 0, p[i]);
                h.label("q" + i, labels[i]);
                if (i == 1) {
                    h.label("gone", 0);             // an outcome: no longer awaited
                }
            }
            var records = h.metrics().readKeyValuesToList();
            CalibrationMetrics web = value(records, "laplace|segment|web");
            Calibration expectedWeb = new Calibration().add(p[0], 0).add(p[1], 0);
            assertThat(web.getSegment()).isEqualTo("web");
            assertThat(web.getN()).isEqualTo(2);
            assertThat(web.getEce()).isCloseTo(expectedWeb.metrics().ece(), within(1e-12));
            assertThat(web.getNll()).isCloseTo(expectedWeb.metrics().nll(), within(1e-12));
            assertThat(value(records, "laplace|segment-window|web|0").getN()).isEqualTo(2);
            assertThat(value(records, "laplace|segment|app").getN()).isEqualTo(1);
            // the bound is 3: web, app, then everything else pooled
            CalibrationMetrics other = value(records, "laplace|segment|(other)");
            assertThat(other.getN()).isEqualTo(1);
            assertThat(records).extracting(kv -> kv.key).noneMatch(k -> k.contains("batch") || k.contains("hostile"));

            CalibrationMetrics window = value(records, "laplace|window|0");
            assertThat(window.getSegment()).isNull();
            assertThat(window.getOpenPredictions()).isEqualTo(2);
            assertThat(window.getEstimatedAccuracy()).isCloseTo((0.9 + 0.6) / 2, within(1e-12));
            assertThat(value(records, "map|window|0").getEstimatedAccuracy()).isCloseTo(0.99, within(1e-12));
            assertThat(value(records, "laplace|running").getOpenPredictions()).isNull();
        }
    }

    private static CalibrationMetrics value(List<org.apache.kafka.streams.KeyValue<String, CalibrationMetrics>> records, String key) {
        return records.stream().filter(kv -> kv.key.equals(key)).reduce((a, b) -> b).orElseThrow(() -> new AssertionError(key)).value;
    }

    /**
     * Every bad label has one outcome on labels-dlq, and the calibrator goes on: bytes that are not Avro, a schema id
     * the registry does not have, another type's schema, a key that is not the question id, a negative index, an
     * index past the question's choices (a right label may still follow), a second label, and a label whose question
     * is never predicted within the horizon.
     */
    @Test
    void badLabelsGoToTheLabelsDeadLetterTopicAndTheCalibratorGoesOn(@TempDir Path state) {
        try (Harness h = harness(state, settings(1))) {
            h.rawLabels().pipeInput("g", "not avro".getBytes(java.nio.charset.StandardCharsets.UTF_8));             // offset 0
            h.rawLabels().pipeInput("u", new byte[] {0, 0, 0, 0x27, 0x0F, 2});                                        // 1
            h.rawLabels().pipeInput("t", topics.predictions().serialize(prediction("t", 0, 0.5, 0.5)));               // 2
            h.l().pipeInput("a", Label.newBuilder().setQuestionId("b").setLabel(0).setLabelledAt(Instant.now()).build()); // 3
            h.label("n", -1);                                                                                          // 4
            h.predict("p", 0, 0.8, 0.2);
            h.label("p", 5);                                                                                           // 5
            h.label("p", 1);                                                                                           // 6: the outcome
            h.label("p", 0);                                                                                           // 7
            h.label("ghost", 0);                                                                                       // 8
            h.advance(Duration.ofSeconds(31));
            h.question("later");                    // moves stream time past the ghost's horizon
            List<DeadLetter> dead = h.labelsDlq().readValuesToList();
            assertThat(dead).extracting(DeadLetter::getReason).containsExactly("UNDECODABLE", "UNDECODABLE", "UNDECODABLE",
                    "KEY_MISMATCH", "LABEL_OUT_OF_RANGE", "LABEL_OUT_OF_RANGE", "DUPLICATE_LABEL", "NO_PREDICTION");
            assertThat(dead).extracting(DeadLetter::getOffset).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 7L, 8L);
            assertThat(dead).allMatch(d -> d.getSourceTopic().equals("labels"));
            assertThat(dead.get(5).getMessage()).contains("label 5 but question p has 2 choices");
            assertThat(h.outcomes().readValuesToList()).extracting(o -> o.getPrediction().getQuestionId() + ":" + o.getLabel())
                    .containsExactly("p:1");
            assertThat(h.metrics().readValuesToList()).isNotEmpty();
        }
    }

    /**
     * Whatever arrives on predictions and questions (topics the scorer writes and dead-letters): bytes that are not
     * Avro, a schema id the registry lacks, a record of another type, a tombstone, a second prediction under an id. The
     * calibrator skips each with a log line (the first prediction counts), dead-letters none (labels-dlq is for labels)
     * and joins the good records after them.
     */
    @Test
    void hostileRecordsOnPredictionsAndQuestionsAreSkippedAndTheJoinGoesOn(@TempDir Path state) {
        try (Harness h = harness(state, settings(1))) {
            TestInputTopic<String, byte[]> rawPredictions = h.driver().createInputTopic(topics.predictions().name(),
                    Serdes.String().serializer(), Serdes.ByteArray().serializer());
            byte[] otherType = topics.labels().serialize(Label.newBuilder().setQuestionId("a").setLabel(0).setLabelledAt(Instant.now()).build());
            for (TestInputTopic<String, byte[]> raw : List.of(rawPredictions, h.q())) {
                raw.pipeInput("a", "not avro".getBytes(java.nio.charset.StandardCharsets.UTF_8));
                raw.pipeInput("a", new byte[] {0, 0, 0, 0x27, 0x0F, 2});
                raw.pipeInput("a", otherType);
                raw.pipeInput("a", (byte[]) null);
            }
            h.question("a");
            h.predict("a", 0, 0.8, 0.2);
            h.predict("a", 0, 0.3, 0.7);              // a second prediction under the same id: the first counts
            h.label("a", 0);
            List<LabelledOutcome> out = h.outcomes().readValuesToList();
            assertThat(out).extracting(o -> o.getPrediction().getQuestionId()).containsExactly("a");
            assertThat(out.get(0).getQuestion()).isNotNull();
            assertThat(out.get(0).getPrediction().getLaplace()).containsExactly(0.8, 0.2);
            assertThat(h.metrics().readValuesToList().stream().filter(m -> m.getScope().equals("window")).findFirst().orElseThrow()
                    .getOpenPredictions()).as("nothing left awaiting a label").isZero();
            assertThat(h.labelsDlq().isEmpty()).isTrue();
        }
    }

    @Test
    void runningVersionAndWindowScopesAndTheirKeys(@TempDir Path state) {
        try (Harness h = harness(state, settings(3))) {
            for (int i = 0; i < 9; i++) {
                h.predict("q" + i, i < 6 ? 0 : 1, 0.8, 0.2);
                h.label("q" + i, i % 2);
            }
            var records = h.metrics().readKeyValuesToList();
            assertThat(records).hasSize(27);
            assertThat(records).extracting(kv -> kv.key).contains("laplace|window|0", "laplace|window|2", "map|running",
                    "temperature|version|0", "laplace|version|1");
            CalibrationMetrics lastRunning = records.stream().filter(kv -> kv.key.equals("laplace|running")).reduce((a, b) -> b).orElseThrow().value;
            assertThat(lastRunning.getN()).isEqualTo(9);
            CalibrationMetrics v1 = records.stream().filter(kv -> kv.key.equals("laplace|version|1")).findFirst().orElseThrow().value;
            assertThat(v1.getN()).isEqualTo(3);
            assertThat(v1.getPosteriorVersion()).isEqualTo(1);
        }
    }

    @Test
    void driftIsDetectedWhenConfidentAnswersTurnWrong(@TempDir Path state) {
        try (Harness h = harness(state, settings(20))) {
            for (int i = 0; i < 60; i++) {
                boolean drifted = i >= 40;
                h.predict("q" + i, 0, 0.9, 0.1);
                h.label("q" + i, drifted ? 1 : (i % 10 == 0 ? 1 : 0));   // 90% right, then confidently wrong
            }
            List<DriftEvent> events = h.drift().readValuesToList();
            assertThat(events).isNotEmpty();
            DriftEvent ph = events.stream().filter(e -> e.getDetector().equals("page-hinkley")).findFirst().orElseThrow();
            assertThat(ph.getAtOutcome()).isBetween(40L, 59L);
            assertThat(ph.getStatistic()).isGreaterThan(ph.getThreshold());
            DriftEvent ece = events.stream().filter(e -> e.getDetector().equals("ece-window")).findFirst().orElseThrow();
            assertThat(ece.getAtOutcome()).isEqualTo(59);
            assertThat(events).allMatch(e -> e.getAtOutcome() >= 40);
        }
    }

    /**
     * Laplace-LoRA saying 50/50 to everything (a refit that could only widen the posterior) has a constant NLL; MAP's
     * detectors still see its answers turn wrong. After a swap to version 1 the tests start over, so a second drift
     * on version 1 — here the rule turning back — is detected again, on version 1.
     */
    @Test
    void everyMethodIsWatchedAndTheDetectorsStartOverAfterASwap(@TempDir Path state) {
        try (Harness h = harness(state, settings(20))) {
            int q = 0;
            for (int i = 0; i < 40; i++, q++) {                  // version 0: right (90 %)
                uniformLaplace(h, "q" + q, 0);
                h.label("q" + q, i % 10 == 0 ? 1 : 0);
            }
            for (int i = 0; i < 40; i++, q++) {                  // the rule turns: MAP confidently wrong
                uniformLaplace(h, "q" + q, 0);
                h.label("q" + q, 1);
            }
            List<DriftEvent> first = h.drift().readValuesToList();
            assertThat(first).isNotEmpty().allMatch(e -> e.getPosteriorVersion() == 0 && e.getAtOutcome() >= 40);
            assertThat(first).extracting(DriftEvent::getMethod).contains("map");
            assertThat(first).as("Laplace-LoRA's NLL is a constant ln 2").noneMatch(e -> e.getMethod().equals("laplace")
                    && !e.getDetector().equals("page-hinkley-error"));
            assertThat(first).extracting(DriftEvent::getDetector).contains("page-hinkley", "page-hinkley-error");
            assertThat(first).extracting(DriftEvent::getKind).containsOnly("label");
            for (int i = 0; i < 40; i++, q++) {                  // version 1 learnt the new rule: right again
                h.predict("q" + q, 1, 0.1, 0.9);
                h.label("q" + q, i % 10 == 0 ? 0 : 1);
            }
            assertThat(h.drift().readValuesToList()).as("no alarm while version 1 is right").isEmpty();
            for (int i = 0; i < 40; i++, q++) {                  // the rule turns back
                h.predict("q" + q, 1, 0.1, 0.9);
                h.label("q" + q, 0);
            }
            List<DriftEvent> second = h.drift().readValuesToList();
            assertThat(second).isNotEmpty().allMatch(e -> e.getPosteriorVersion() == 1 && e.getAtOutcome() >= 120);
            assertThat(second).extracting(DriftEvent::getMethod).contains("laplace", "map");
        }
    }

    /** Laplace-LoRA 50/50, MAP sure of answer 0. */
    private static void uniformLaplace(Harness h, String id, int version) {
        h.p().pipeInput(id, Prediction.newBuilder(prediction(id, version, 0.5, 0.5)).setMap(List.of(0.95, 0.05))
                .setTemperature(List.of(0.8, 0.2)).build());
    }

    /** A window of predictions far less sure than the version's first window raises a label-free event, before any label. */
    @Test
    void aRiseOfTheEpistemicPartIsSeenWithoutLabels(@TempDir Path state) {
        try (Harness h = harness(state, settings(20))) {
            java.util.Random random = new java.util.Random(1);
            for (int i = 0; i < 40; i++) {
                double e = 0.01 + 0.005 * random.nextDouble();
                h.p().pipeInput("q" + i, Prediction.newBuilder(prediction("q" + i, 0, 0.9, 0.1)).setEntropy(0.3 + e).setEpistemic(e).build());
            }
            assertThat(h.drift().readValuesToList()).as("the same spread: nothing").isEmpty();
            for (int i = 40; i < 60; i++) {
                double e = 0.05 + 0.005 * random.nextDouble();
                h.p().pipeInput("q" + i, Prediction.newBuilder(prediction("q" + i, 0, 0.9, 0.1)).setEntropy(0.3 + e).setEpistemic(e).build());
            }
            List<DriftEvent> events = h.drift().readValuesToList();
            assertThat(events).extracting(DriftEvent::getDetector).containsExactlyInAnyOrder("entropy-rise", "epistemic-rise");
            assertThat(events).allSatisfy(e -> {
                assertThat(e.getKind()).isEqualTo("label-free");
                assertThat(e.getAtQuestion()).isEqualTo("q59");
                assertThat(e.getStatistic()).isGreaterThan(e.getThreshold());
            });
            assertThat(h.outcomes().readValuesToList()).as("no label came").isEmpty();
        }
    }

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    private static Instant at(double seconds) {
        return T0.plusMillis(Math.round(seconds * 1000));
    }

    private static void predictAt(Harness h, String id, double seconds, double... laplace) {
        h.p().pipeInput(id, prediction(id, 0, laplace), at(seconds));
    }

    private static void labelAt(Harness h, String id, int label, double seconds) {
        h.l().pipeInput(id, Label.newBuilder().setQuestionId(id).setLabel(label).setLabelledAt(Instant.now()).build(), at(seconds));
    }

    /**
     * The horizon is counted in the records' own time: hours of wall clock with nothing arriving expire nothing (a
     * replay runs at any speed and gives the same counts), and the record that moves stream time past a deadline
     * finds that question expired.
     */
    @Test
    void theLabelHorizonIsStreamTimeNotTheWallClock(@TempDir Path state) {
        try (Harness h = harness(state, settings(1))) {
            predictAt(h, "x", 0, 0.7, 0.3);
            h.driver().advanceWallClockTime(Duration.ofHours(1));
            labelAt(h, "x", 0, 10);                 // 10 s of stream time later: an outcome, however long the wait was
            predictAt(h, "z", 11, 0.7, 0.3);
            h.q().pipeInput("w", topics.questions().serialize(Question.newBuilder().setId("w").setTask("winogrande").setText("s _")
                    .setChoices(List.of("a", "b")).setProducedAt(Instant.now()).build()), at(41.5));   // z's horizon passes
            labelAt(h, "z", 1, 42);                 // late
            predictAt(h, "v", 43, 0.6, 0.4);
            labelAt(h, "v", 0, 44);
            assertThat(h.outcomes().readValuesToList()).extracting(o -> o.getPrediction().getQuestionId()).containsExactly("x", "v");
            List<CalibrationMetrics> running = h.metrics().readValuesToList().stream().filter(m -> m.getScope().equals("running")).toList();
            CalibrationMetrics last = running.get(running.size() - 1);
            assertThat(last.getN()).isEqualTo(2);
            assertThat(last.getLabelsMissing()).isEqualTo(1);
            assertThat(last.getLabelsLate()).isEqualTo(1);
        }
    }

    /**
     * The join holds an id only while it can still matter: a joined one for one horizon (to recognise a second
     * label), an expired one for one more (to recognise a late label); and its deadline index holds exactly one key
     * per held id, so that expiry reads only what is due.
     */
    @Test
    void theJoinHoldsOnlyWhatCanStillMatterAndIndexesItByDeadline(@TempDir Path state) {
        try (Harness h = harness(state, settings(10))) {
            for (int i = 0; i < 100; i++) {
                predictAt(h, "j" + i, i * 0.1, 0.7, 0.3);
                labelAt(h, "j" + i, i % 2, i * 0.1 + 0.05);
            }
            for (int i = 0; i < 20; i++) {
                predictAt(h, "o" + i, 10 + i * 0.1, 0.7, 0.3);
            }
            assertThat(held(h)).hasSize(120);
            predictAt(h, "n1", 39.95, 0.7, 0.3);      // the joined ones' horizon has passed, the open ones' not yet
            assertThat(held(h)).hasSize(21);
            predictAt(h, "n2", 45, 0.7, 0.3);         // the open ones expire (missing) and are kept one more horizon
            assertThat(held(h)).hasSize(22);
            predictAt(h, "n3", 80, 0.7, 0.3);         // ...then dropped, and n1 and n2 expire in turn
            assertThat(held(h)).containsOnlyKeys("n1", "n2", "n3");
        }
    }

    /** A join store written before the deadline index existed is indexed on the first record, and its entries expire. */
    @Test
    void aJoinStoreFromBeforeTheDeadlineIndexIsIndexedOnceAndExpires(@TempDir Path state) {
        try (Harness h = harness(state, settings(1))) {
            h.driver().<String, org.laplacelora.schemas.state.JoinEntry>getKeyValueStore(CalibratorTopology.JOIN_STORE).put("old",
                    org.laplacelora.schemas.state.JoinEntry.newBuilder().setPrediction(prediction("old", 0, 0.7, 0.3))
                            .setFirstSeen(T0.toEpochMilli()).setJoined(false).setExpired(false).build());
            predictAt(h, "new", 40, 0.7, 0.3);        // past old's horizon
            labelAt(h, "new", 0, 41);
            CalibrationMetrics running = h.metrics().readValuesToList().stream().filter(m -> m.getScope().equals("running")).findFirst()
                    .orElseThrow();
            assertThat(running.getLabelsMissing()).isEqualTo(1);
            assertThat(held(h)).containsOnlyKeys("old", "new");
        }
    }

    /** The join store's ids, checked against the deadline index: one key per id, at the time its horizon started. */
    private static java.util.Map<String, Long> held(Harness h) {
        java.util.Map<String, Long> join = new java.util.HashMap<>();
        try (var it = h.driver().<String, org.laplacelora.schemas.state.JoinEntry>getKeyValueStore(CalibratorTopology.JOIN_STORE).all()) {
            it.forEachRemaining(kv -> join.put(kv.key, kv.value.getFirstSeen()));
        }
        java.util.Map<String, Long> index = new java.util.HashMap<>();
        try (var it = h.driver().<String, String>getKeyValueStore(CalibratorTopology.DEADLINE_STORE).all()) {
            it.forEachRemaining(kv -> assertThat(index.put(kv.key.substring(20), Long.parseLong(kv.key.substring(0, 19)))).isNull());
        }
        assertThat(index).isEqualTo(join);
        return join;
    }

    /**
     * A calibrator stopped mid-stream and started again from its changelogs (what Kafka Streams restores; the test
     * driver cannot, so it is copied by hand) publishes exactly what one that never stopped publishes: the merging
     * step's journal since its last state record is replayed onto that record, the join's deadlines come back with
     * it, and no outcome, window, missing label or late label is lost or counted twice.
     */
    @Test
    @SuppressWarnings("unchecked")
    void aRestartFromTheChangelogsPublishesWhatAnUninterruptedRunDoes(@TempDir Path once, @TempDir Path first, @TempDir Path second) {
        List<List<String>> uninterrupted;
        try (Harness h = harness(once, settings(10))) {
            for (int i = 0; i < 80; i++) {
                step(h, i);
            }
            uninterrupted = published(h);
        }
        List<List<String>> restarted = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        java.util.Map<String, org.apache.kafka.common.serialization.Serde<?>> stores = java.util.Map.of(
                CalibratorTopology.JOIN_STORE, org.laplacelora.streams.kafka.StateSerde.of(org.laplacelora.schemas.state.JoinEntry.class),
                CalibratorTopology.DEADLINE_STORE, Serdes.String(),
                CalibratorTopology.STATE_STORE, org.laplacelora.streams.kafka.StateSerde.of(org.laplacelora.schemas.state.CalibratorState.class),
                CalibratorTopology.JOURNAL_STORE, Serdes.ByteArray());
        java.util.Map<String, List<org.apache.kafka.streams.test.TestRecord<String, Object>>> changelogs = new java.util.HashMap<>();
        try (Harness h = harness(first, settings(10))) {
            for (int i = 0; i < 45; i++) {
                step(h, i);
            }
            append(restarted, published(h));
            stores.forEach((store, serde) -> changelogs.put(store, h.driver().createOutputTopic("calibrator-test-" + store + "-changelog",
                    Serdes.String().deserializer(), (org.apache.kafka.common.serialization.Deserializer<Object>) serde.deserializer())
                    .readRecordsToList()));
        }
        assertThat(changelogs.get(CalibratorTopology.STATE_STORE)).as("a state record was written (at 20)").isNotEmpty();
        assertThat(changelogs.get(CalibratorTopology.JOURNAL_STORE)).as("and events journalled after it").isNotEmpty();
        try (Harness h = harness(second, settings(10))) {
            changelogs.forEach((store, records) -> {
                org.apache.kafka.streams.state.KeyValueStore<String, Object> restored = h.driver().getKeyValueStore(store);
                records.forEach(r -> {
                    if (r.value() == null) {
                        restored.delete(r.key());
                    } else {
                        restored.put(r.key(), r.value());
                    }
                });
            });
            for (int i = 45; i < 80; i++) {
                step(h, i);
            }
            append(restarted, published(h));
        }
        for (int kind = 0; kind < 3; kind++) {
            assertThat(restarted.get(kind)).containsExactlyElementsOf(uninterrupted.get(kind));
        }
        assertThat(uninterrupted.get(0)).hasSize(74);
        assertThat(uninterrupted.get(1)).anyMatch(s -> s.contains("missing=4 late=1"));
    }

    /**
     * Step i of a stream over 80 s of record time: a prediction every second, labelled half a second later except
     * every 13th (missing after 30 s); one late label; the merging step writes its state record at step 20.
     */
    private static void step(Harness h, int i) {
        predictAt(h, "s" + i, i, i % 3 == 0 ? 0.9 : 0.6, i % 3 == 0 ? 0.1 : 0.4);
        if (i % 13 != 5) {
            labelAt(h, "s" + i, i % 4 == 0 ? 1 : 0, i + 0.5);
        }
        if (i == 50) {
            labelAt(h, "s5", 0, i + 0.7);             // s5's horizon passed at 35 s: late
        }
        if (i == 20) {
            h.driver().advanceWallClockTime(Duration.ofSeconds(1));
        }
    }

    private static void append(List<List<String>> to, List<List<String>> more) {
        for (int i = 0; i < to.size(); i++) {
            to.get(i).addAll(more.get(i));
        }
    }

    /** What the calibrator published so far (outcomes, metrics, drift events), without the times it was published at. */
    private static List<List<String>> published(Harness h) {
        List<String> out = new ArrayList<>();
        List<String> metrics = new ArrayList<>();
        List<String> drift = new ArrayList<>();
        h.outcomes().readValuesToList().forEach(o -> out.add("outcome " + o.getPrediction().getQuestionId() + " #" + o.getSequence()
                + " label " + o.getLabel()));
        h.metrics().readKeyValuesToList().forEach(kv -> metrics.add(kv.key + " n=" + kv.value.getN() + " ece=" + kv.value.getEce() + " nll="
                + kv.value.getNll() + " outcomes " + kv.value.getFirstOutcome() + ".." + kv.value.getLastOutcome() + " missing="
                + kv.value.getLabelsMissing() + " late=" + kv.value.getLabelsLate() + " open=" + kv.value.getOpenPredictions()));
        h.drift().readValuesToList().forEach(d -> drift.add(d.getDetector() + " " + d.getMethod() + " at " + d.getAtOutcome()));
        return List.of(out, metrics, drift);
    }
}
