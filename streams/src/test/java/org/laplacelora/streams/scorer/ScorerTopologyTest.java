package org.laplacelora.streams.scorer;

import static org.assertj.core.api.Assertions.assertThat;

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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.laplacelora.schemas.avro.DeadLetter;
import org.laplacelora.schemas.avro.Prediction;
import org.laplacelora.schemas.avro.Question;
import org.laplacelora.schemas.registry.HttpSchemaRegistry;
import org.laplacelora.schemas.registry.InProcessSchemaRegistry;
import org.laplacelora.schemas.registry.RegistryConfig;
import org.laplacelora.schemas.state.PendingQuestion;
import org.laplacelora.streams.ScorerFixture;
import org.laplacelora.streams.kafka.StateSerde;
import org.laplacelora.streams.kafka.TopicNames;
import org.laplacelora.streams.kafka.Topics;

class ScorerTopologyTest {
    private static final org.apache.kafka.common.serialization.Serde<PendingQuestion> PENDING = StateSerde.of(PendingQuestion.class);
    private static QuestionScorer scorer;
    private static InProcessSchemaRegistry registry;
    private static Topics topics;
    private static List<Question> questions;

    @BeforeAll
    static void setUp() throws Exception {
        scorer = ScorerFixture.scorer();
        registry = InProcessSchemaRegistry.start(0, null);
        topics = Topics.of(TopicNames.defaults(), new HttpSchemaRegistry(RegistryConfig.of(registry.url())));
        questions = ScorerFixture.questions();
    }

    @AfterAll
    static void tearDown() {
        registry.close();
        scorer.close();
    }

    private record Harness(TopologyTestDriver driver, TestInputTopic<String, byte[]> in, TestOutputTopic<String, Prediction> out,
                           TestOutputTopic<String, DeadLetter> dlq) implements AutoCloseable {
        @Override
        public void close() {
            driver.close();
        }
    }

    /** Scoring on the stream thread: predictions come out during the call that completes their batch. */
    private static Harness harness(Path stateDir, int maxBatch, Duration maxWait) {
        return harness(stateDir, new ScorerTopology.Batching(maxBatch, maxWait, 0));
    }

    private static Harness harness(Path stateDir, ScorerTopology.Batching batching) {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "scorer-test");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        TopologyTestDriver d = new TopologyTestDriver(ScorerTopology.build(topics, scorer, batching), p);
        return new Harness(d,
                d.createInputTopic(topics.questions().name(), Serdes.String().serializer(), Serdes.ByteArray().serializer()),
                d.createOutputTopic(topics.predictions().name(), Serdes.String().deserializer(), topics.predictions().valueSerde().deserializer()),
                d.createOutputTopic(topics.questionsDlq().name(), Serdes.String().deserializer(), topics.questionsDlq().valueSerde().deserializer()));
    }

    /** Advances the driver's clock (punctuation delivers what the scoring thread finished) until n predictions came out. */
    private static List<Prediction> awaitPredictions(Harness h, int n) throws InterruptedException {
        List<Prediction> out = new ArrayList<>(h.out().readValuesToList());
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (out.size() < n && System.nanoTime() < deadline) {
            Thread.sleep(5);
            h.driver().advanceWallClockTime(Duration.ofMillis(10));
            out.addAll(h.out().readValuesToList());
        }
        return out;
    }

    private static Question renamed(Question q, String suffix) {
        return Question.newBuilder(q).setId(q.getId() + suffix).build();
    }

    private static void send(Harness h, Question q) {
        h.in().pipeInput(q.getId(), topics.questions().serialize(q));
    }

    @Test
    void aFullMicroBatchIsScoredAtOnce(@TempDir Path state) {
        try (Harness h = harness(state, 4, Duration.ofHours(1))) {
            for (int i = 0; i < 3; i++) {
                send(h, questions.get(i));
            }
            assertThat(h.out().isEmpty()).isTrue();
            send(h, questions.get(3));
            List<Prediction> out = h.out().readValuesToList();
            assertThat(out).extracting(Prediction::getQuestionId)
                    .containsExactly(questions.get(0).getId(), questions.get(1).getId(), questions.get(2).getId(), questions.get(3).getId());
            for (Prediction p : out) {
                assertThat(p.getBatchSize()).isEqualTo(4);
                assertThat(p.getLaplace()).hasSize(2);
                assertThat(p.getLaplace().get(0) + p.getLaplace().get(1)).isCloseTo(1, org.assertj.core.data.Offset.offset(1e-9));
                assertThat(p.getMap().get(p.getPredicted())).isGreaterThanOrEqualTo(p.getMap().get(1 - p.getPredicted()) - 1e-9);
                assertThat(p.getConfidence()).isEqualTo(p.getLaplace().get(p.getPredicted()));
                assertThat(p.getLogitCovariance()).hasSize(4);
                assertThat(p.getLogitCovariance().get(0)).isPositive();
                assertThat(p.getLogitCovariance().subList(1, 4)).containsOnly(0.0);
                assertThat(p.getEpistemic()).isBetween(0.0, p.getEntropy());
                assertThat(p.getPosteriorVersion()).isZero();
                assertThat(p.getAdapter()).startsWith("sha256:");
            }
        }
    }

    @Test
    void aPartialBatchIsScoredAfterTheMaximumWait(@TempDir Path state) {
        try (Harness h = harness(state, 32, Duration.ofMillis(200))) {
            send(h, questions.get(0));
            send(h, questions.get(1));
            h.driver().advanceWallClockTime(Duration.ofMillis(50));
            assertThat(h.out().isEmpty()).isTrue();
            h.driver().advanceWallClockTime(Duration.ofMillis(300));
            assertThat(h.out().readValuesToList()).extracting(Prediction::getBatchSize).containsExactly(2, 2);
        }
    }

    @Test
    void invalidRecordsGoToTheDeadLetterTopicWithTheirReasonAndTheStreamGoesOn(@TempDir Path state) {
        try (Harness h = harness(state, 2, Duration.ofHours(1))) {
            Question ok = questions.get(0);
            h.in().pipeInput("garbage", "{not avro}".getBytes());                                         // offset 0
            send(h, Question.newBuilder(ok).setId("u").setTask("sudoku").build());                     // 1
            send(h, Question.newBuilder(ok).setId("c").setChoices(List.of("only one")).build());       // 2
            send(h, Question.newBuilder(ok).setId("e").setText("  ").build());                         // 3
            send(h, Question.newBuilder(ok).setId("l").setText("word ".repeat(400)).build());          // 4
            send(h, Question.newBuilder(ok).setId("a").setTask("arc").build());                        // 5
            send(h, ok);                                                                               // 6
            send(h, questions.get(1));                                                                 // 7
            List<DeadLetter> dead = h.dlq().readValuesToList();
            assertThat(dead).extracting(DeadLetter::getReason)
                    .containsExactly("UNDECODABLE", "UNKNOWN_TASK", "BAD_CHOICES", "EMPTY_TEXT", "TOO_LONG", "UNKNOWN_TASK");
            assertThat(dead).extracting(DeadLetter::getOffset).containsExactly(0L, 1L, 2L, 3L, 4L, 5L);
            assertThat(dead).allMatch(d -> d.getSourceTopic().equals("questions") && d.getPartition() == 0);
            assertThat(dead.get(0).getMessage()).contains("not Confluent Avro wire format");
            assertThat(new String(dead.get(0).getValue().array())).isEqualTo("{not avro}");
            assertThat(dead.get(4).getMessage()).contains("more than the limit of 512");
            assertThat(dead.get(5).getMessage()).contains("serves winogrande");
            assertThat(h.out().readValuesToList()).extracting(Prediction::getQuestionId).containsExactly(ok.getId(), questions.get(1).getId());
        }
    }

    /**
     * Whatever anyone can produce to questions has one defined outcome: a schema id the registry does not have and
     * another type's schema are undecodable, a key that is not the id is a mismatch, a second question with a taken
     * id is a duplicate (the first is scored), and a question near the broker's 1 MB limit is dead-lettered as too
     * long with its first 64 KB and its size, so that the dead letter fits.
     */
    @Test
    void hostileQuestionsEachHaveTheirDefinedOutcome(@TempDir Path state) {
        try (Harness h = harness(state, 2, Duration.ofHours(1))) {
            Question ok = questions.get(0);
            byte[] unknownId = {0, 0, 0, 0x27, 0x0F, 2, 'x'};                                             // schema id 9999
            h.in().pipeInput("q-unknown-schema", unknownId);                                              // offset 0
            byte[] label = topics.labels().serialize(org.laplacelora.schemas.avro.Label.newBuilder().setQuestionId("q-label")
                    .setLabel(1).setLabelledAt(Instant.now()).build());
            h.in().pipeInput("q-label", label);                                                          // 1: a Label on questions
            h.in().pipeInput("someone-else", topics.questions().serialize(ok));                          // 2: key is not the id
            send(h, ok);                                                                                 // 3: scored
            send(h, Question.newBuilder(ok).setText("a different text, the same id").build());          // 4: duplicate
            Question huge = Question.newBuilder(ok).setId("huge").setText("word ".repeat(200_000)).build();
            byte[] hugeBytes = topics.questions().serialize(huge);
            h.in().pipeInput("huge", hugeBytes);                                                         // 5
            send(h, questions.get(1));                                                                   // 6: completes the batch
            List<DeadLetter> dead = h.dlq().readValuesToList();
            assertThat(dead).extracting(DeadLetter::getReason)
                    .containsExactly("UNDECODABLE", "UNDECODABLE", "KEY_MISMATCH", "DUPLICATE_ID", "TOO_LONG");
            assertThat(dead).extracting(DeadLetter::getOffset).containsExactly(0L, 1L, 2L, 4L, 5L);
            assertThat(dead.get(0).getMessage()).contains("no schema with id 9999");
            assertThat(dead.get(1).getMessage()).contains("cannot decode Question");
            assertThat(dead.get(2).getMessage()).contains("key someone-else but question id " + ok.getId());
            assertThat(dead.get(3).getMessage()).contains("already taken at offset 3");
            assertThat(hugeBytes.length).isGreaterThan(1_000_000);
            assertThat(dead.get(4).getValue().remaining()).isEqualTo(org.laplacelora.streams.kafka.DeadLetters.MAX_BYTES);
            assertThat(dead.get(4).getValueSize()).isEqualTo(hugeBytes.length);
            assertThat(topics.questionsDlq().serialize(dead.get(4)).length).isLessThan(80_000);
            assertThat(h.out().readValuesToList()).extracting(Prediction::getQuestionId).containsExactly(ok.getId(), questions.get(1).getId());
        }
    }

    /**
     * Buffered questions live in the changelogged store, not in memory. The first scorer buffers three
     * questions and stops; its store's changelog is what Kafka Streams replays into the next instance's
     * store on restart (the test driver cannot restore, and cleans its state directory on close, so the
     * replay is done here by hand); the next instance then scores them before anything newer.
     */
    @Test
    void theMicroBatchBufferSurvivesARestart(@TempDir Path first, @TempDir Path second) {
        List<org.apache.kafka.streams.test.TestRecord<Long, PendingQuestion>> changelog;
        try (Harness h = harness(first, 8, Duration.ofMillis(500))) {
            send(h, questions.get(2));
            send(h, questions.get(3));
            send(h, questions.get(4));
            assertThat(h.out().isEmpty()).isTrue();
            changelog = h.driver().createOutputTopic("scorer-test-" + ScorerTopology.STORE + "-changelog",
                    Serdes.Long().deserializer(), PENDING.deserializer()).readRecordsToList();
        }
        assertThat(changelog).hasSize(3);
        try (Harness h = harness(second, 8, Duration.ofMillis(500))) {
            org.apache.kafka.streams.state.KeyValueStore<Long, PendingQuestion> store = h.driver().getKeyValueStore(ScorerTopology.STORE);
            changelog.forEach(r -> store.put(r.key(), r.value()));
            for (int i = 0; i < 3; i++) {
                h.in().pipeInput("junk", new byte[] {1});   // offsets 0-2 of the partition are the restored questions' own
            }
            send(h, questions.get(5));   // before any punctuation: the restored questions still go first
            h.driver().advanceWallClockTime(Duration.ofSeconds(1));
            List<String> ids = new ArrayList<>();
            h.out().readValuesToList().forEach(p -> ids.add(p.getQuestionId()));
            assertThat(ids).containsExactly(questions.get(2).getId(), questions.get(3).getId(), questions.get(4).getId(),
                    questions.get(5).getId());
        }
    }

    /**
     * Posterior versions swapped in from another thread as fast as it can while questions stream through:
     * every question gets exactly one prediction, each micro-batch is scored by one version, and versions
     * only go forward.
     */
    @ParameterizedTest(name = "batches scored ahead: {0}")
    @ValueSource(ints = {0, 2})
    void swapsBetweenMicroBatchesLoseAndDuplicateNothing(int scoreAhead, @TempDir Path state) throws Exception {
        org.laplacelora.model.laplace.posterior.LaplacePosterior original = scorer.served().posterior();
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicLong swapped = new java.util.concurrent.atomic.AtomicLong();
        Thread swapper = new Thread(() -> {
            try {
                for (long v = 1; !done.get(); v++) {
                    scorer.served().swap(original, v);
                    swapped.set(v);
                    Thread.sleep(2);
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        List<Prediction> out = new ArrayList<>();
        List<String> sent = new ArrayList<>();
        try (Harness h = harness(state, new ScorerTopology.Batching(4, Duration.ofHours(1), scoreAhead))) {
            swapper.start();
            for (int round = 0; round < 4; round++) {
                for (Question q : questions) {
                    Question renamed = renamed(q, "-" + round);
                    sent.add(renamed.getId());
                    send(h, renamed);
                }
            }
            out.addAll(awaitPredictions(h, sent.size()));
            done.set(true);
            swapper.join();
        } finally {
            done.set(true);
            scorer.served().swap(original, 0);
        }
        assertThat(out.stream().map(Prediction::getQuestionId).toList()).containsExactlyElementsOf(sent);
        long previous = -1;
        java.util.Set<Long> versions = new java.util.TreeSet<>();
        for (int i = 0; i < out.size(); i += 4) {
            List<Prediction> batch = out.subList(i, i + 4);
            assertThat(batch).allSatisfy(p -> assertThat(p.getBatchSize()).isEqualTo(4));
            long v = batch.get(0).getPosteriorVersion();
            assertThat(batch).as("one version per micro-batch").allSatisfy(p -> assertThat(p.getPosteriorVersion()).isEqualTo(v));
            assertThat(v).isGreaterThanOrEqualTo(previous);
            previous = v;
            versions.add(v);
        }
        assertThat(versions.size()).as("swaps happened during the stream (%d swaps)", swapped.get()).isGreaterThan(2);
    }

    /**
     * Batches scored on their own thread come out in input order; an instance stopped with batches still
     * being scored loses none of them and doubles none: they are in the store (here its changelog is
     * replayed by hand into a fresh instance, as Kafka Streams does) and scored by the next instance.
     */
    @Test
    void batchesScoredAheadComeOutInOrderAndAStopLosesAndDoublesNothing(@TempDir Path first, @TempDir Path second)
            throws Exception {
        ScorerTopology.Batching batching = new ScorerTopology.Batching(4, Duration.ofHours(1), 2);
        List<String> sent = new ArrayList<>();
        List<String> scored = new ArrayList<>();
        java.util.Map<Long, PendingQuestion> store = new java.util.TreeMap<>();
        try (Harness h = harness(first, batching)) {
            for (int i = 0; i < 16; i++) {
                Question q = renamed(questions.get(i % questions.size()), "-" + i);
                sent.add(q.getId());
                send(h, q);
            }
            // 4 full batches, at most 2 out at a time: the stream thread never waits for one, so the last 2 wait in the
            // store; what the scoring thread finished while questions came in may have been delivered already
            h.out().readValuesToList().forEach(p -> scored.add(p.getQuestionId()));
            h.driver().createOutputTopic("scorer-test-" + ScorerTopology.STORE + "-changelog",
                    Serdes.Long().deserializer(), PENDING.deserializer()).readRecordsToList()
                    .forEach(r -> {
                        if (r.value() == null) {
                            store.remove(r.key());
                        } else {
                            store.put(r.key(), r.value());
                        }
                    });
        }
        assertThat(scored).hasSizeLessThanOrEqualTo(8).containsExactlyElementsOf(sent.subList(0, scored.size()));
        assertThat(store).hasSize(16 - scored.size());
        try (Harness h = harness(second, batching)) {
            org.apache.kafka.streams.state.KeyValueStore<Long, PendingQuestion> restored = h.driver().getKeyValueStore(ScorerTopology.STORE);
            store.forEach(restored::put);
            awaitPredictions(h, store.size()).forEach(p -> scored.add(p.getQuestionId()));
            assertThat(scored).containsExactlyElementsOf(sent);
            try (var it = restored.all()) {
                assertThat(it.hasNext()).as("store emptied").isFalse();
            }
        }
    }

    @Test
    void queueLatencyIsMeasuredFromProducedAt(@TempDir Path state) {
        try (Harness h = harness(state, 1, Duration.ofHours(1))) {
            send(h, Question.newBuilder(questions.get(0)).setProducedAt(Instant.now().minusSeconds(3)).build());
            Prediction p = h.out().readValue();
            // the driver's mocked wall clock starts when it is created, a little before produced_at was taken
            assertThat(p.getQueueLatencyMs()).isBetween(2000L, 60_000L);
            assertThat(p.getComputeLatencyMs()).isNotNegative();
        }
    }
}
