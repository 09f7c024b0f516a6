package org.laplacelora.streams.bench;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.IntConsumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.StreamsConfig;
import org.laplacelora.model.tasks.Example;
import org.laplacelora.model.synthetic.SyntheticTask;
import org.laplacelora.schemas.avro.Label;
import org.laplacelora.schemas.avro.Prediction;
import org.laplacelora.schemas.avro.Question;
import org.laplacelora.schemas.registry.InProcessSchemaRegistry;
import org.laplacelora.streams.calibrator.CalibratorApp;
import org.laplacelora.streams.calibrator.CalibratorSettings;
import org.laplacelora.streams.kafka.EmbeddedKafka;
import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.kafka.Topics;
import org.laplacelora.streams.produce.QuestionProducer;

/**
 * Labelled outcomes per second through the calibrator (exactly once, every output and changelog on), with
 * its inputs produced beforehand: first {@code open} questions with predictions and no label, which it takes
 * in until it has caught up (what it holds while labels are awaited; the JIT is warm after it), then, with it
 * stopped, {@code outcomes} questions with their predictions and labels, which it is timed on when it starts
 * again on its state. The horizon is an hour, so that nothing expires while it runs. Predictions are synthetic
 * (the calibrator reads probabilities, not a model).
 */
public final class CalibratorBenchmark {
    private static final String APP = "bench-calibrator";
    public record Result(double ingestSeconds, double outcomesPerSecond, double steadyOutcomesPerSecond) {}

    private CalibratorBenchmark() {}

    /** @param produced told how many questions have been produced so far (for a progress bar) */
    /** @param produced told how many questions have been produced so far (for a progress bar) */
    /** @param warmup labelled questions taken in with the open ones, so that the JIT and the heap are warm when timing starts */
    public static Result run(int open, int warmup, int outcomes, int partitions, Duration commitInterval, PrintStream out,
                             IntConsumer produced) throws Exception {
        try (EmbeddedKafka kafkaServer = EmbeddedKafka.start(null, 0, 0);
             InProcessSchemaRegistry registryServer = InProcessSchemaRegistry.start(0, null);
             Admin admin = kafkaServer.admin()) {
            KafkaSettings kafka = KafkaSettings.of(kafkaServer.bootstrapServers(), registryServer.url(), null, (short) 1);
            Topics topics = kafka.topics();
            kafkaServer.createTopics(topics.newTopics(partitions, (short) 1));
            List<Example> examples = new SyntheticTask(0.1).examples("b", 512, 5, false);
            Random random = new Random(7);
            CalibratorSettings settings = CalibratorSettings.defaults().withCommitInterval(commitInterval).withHorizon(Duration.ofHours(1));
            // The shortest session the broker allows: a restarted member waits out the stopped one's session before
            // it gets the partitions (Kafka Streams does not leave the group on close).
            Map<String, Object> threads = Map.of(StreamsConfig.NUM_STREAM_THREADS_CONFIG, partitions,
                    StreamsConfig.consumerPrefix("session.timeout.ms"), 6000, StreamsConfig.consumerPrefix("heartbeat.interval.ms"), 1500);
            Path state = Files.createTempDirectory("bench-calibrator");

            // 1. The open questions and the warm-up's labelled ones, taken in by the calibrator until it has caught up; then it stops.
            long t0 = System.nanoTime();
            produce(kafka, topics, examples, random, "open-", open, false, produced);
            produce(kafka, topics, examples, random, "warm-", warmup, true, n -> produced.accept(open + n));
            out.printf("produced %d open questions (question + prediction) and %d labelled ones to warm up (question + prediction + label) "
                    + "over %d partition(s) in %.1f s%n", open, warmup, partitions, (System.nanoTime() - t0) / 1e9);
            t0 = System.nanoTime();
            try (CalibratorApp app = CalibratorApp.start(kafka, settings, APP, state, threads)) {
                awaitCaughtUp(admin, topics, partitions);
            }
            double ingest = (System.nanoTime() - t0) / 1e9;
            out.printf("calibrator took them in (%d records) in %.1f s: %.0f records/s, start and stop included%n", 2 * open + 3 * warmup,
                    ingest, (2 * open + 3 * warmup) / ingest);

            // 2. The labelled questions, produced while it is stopped; then it starts again on its state and is timed.
            t0 = System.nanoTime();
            produce(kafka, topics, examples, random, "q-", outcomes, true, n -> produced.accept(open + warmup + n));
            out.printf("produced %d labelled questions (question + prediction + label) in %.1f s%n", outcomes, (System.nanoTime() - t0) / 1e9);
            List<byte[]> read;
            long start = System.nanoTime();
            long startMs = System.currentTimeMillis();
            try (CalibratorApp app = CalibratorApp.start(kafka, settings, APP, state, threads)) {
                read = PipelineBenchmark.readCommitted(kafka, topics.labelledOutcomes().name(), warmup + outcomes, Duration.ofMinutes(60));
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            // Steady: the last 80 % of the timed outcomes by the time the calibrator joined them (its start-up left out).
            long[] joined = read.stream().map(b -> topics.labelledOutcomes().deserialize(b)).filter(o -> o.getPrediction().getQuestionId()
                    .startsWith("q-")).mapToLong(o -> o.getJoinedAt().toEpochMilli()).sorted().toArray();
            if (read.size() != warmup + outcomes || joined.length != outcomes) {
                throw new IllegalStateException("read back " + read.size() + " labelled outcomes (" + joined.length + " timed) of "
                        + (warmup + outcomes));
            }
            int from = outcomes / 5;
            double steady = (outcomes - 1 - from) / Math.max(1e-3, (joined[outcomes - 1] - joined[from]) / 1e3);
            out.printf("calibrator, %d partition(s), %d stream thread(s), commits every %d ms, holding %d open questions: %d labelled outcomes "
                    + "in %.1f s from its start (first after %.1f s): %.0f outcomes/s from start to last; steady (last 80 %%): %.0f outcomes/s%n",
                    partitions, partitions, commitInterval.toMillis(), open, outcomes, seconds, (joined[0] - startMs) / 1e3, outcomes / seconds,
                    steady);
            return new Result(ingest, outcomes / seconds, steady);
        }
    }

    private static void produce(KafkaSettings kafka, Topics topics, List<Example> examples, Random random, String prefix, int n,
                                boolean labelled, IntConsumer produced) {
        try (KafkaProducer<String, byte[]> p = kafka.producer()) {
            for (int i = 0; i < n; i++) {
                String id = prefix + i;
                Example e = examples.get(i % examples.size());
                Question q = Question.newBuilder(QuestionProducer.toQuestion(e, Map.of())).setId(id).build();
                p.send(topics.questions().record(id, q));
                p.send(topics.predictions().record(id, prediction(id, random)));
                if (labelled) {
                    p.send(topics.labels().record(id, Label.newBuilder().setQuestionId(id).setLabel(e.label()).setLabelledAt(Instant.now()).build()));
                }
                produced.accept(i + 1);
            }
        }
    }

    /**
     * Until the calibrator's group has committed the end of every partition it reads: the three input topics' (each
     * of which must have a commit) and its repartition topic's.
     */
    private static void awaitCaughtUp(Admin admin, Topics topics, int partitions) throws Exception {
        int quiet = 0;
        while (quiet < 2) {
            Thread.sleep(1000);
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(APP).partitionsToOffsetAndMetadata().get();
            Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(committed.keySet().stream()
                    .collect(java.util.stream.Collectors.toMap(tp -> tp, tp -> OffsetSpec.latest()))).all().get();
            boolean inputs = java.util.stream.Stream.of(topics.questions().name(), topics.predictions().name(), topics.labels().name())
                    .allMatch(t -> java.util.stream.IntStream.range(0, partitions).allMatch(p -> committed.containsKey(new TopicPartition(t, p))));
            boolean caughtUp = inputs && committed.entrySet().stream()
                    .allMatch(e -> e.getValue() != null && e.getValue().offset() >= ends.get(e.getKey()).offset());
            quiet = caughtUp ? quiet + 1 : 0;
        }
    }

    private static Prediction prediction(String id, Random random) {
        double p = 0.5 + 0.5 * random.nextDouble();
        int predicted = random.nextInt(2);
        List<Double> probabilities = predicted == 0 ? List.of(p, 1 - p) : List.of(1 - p, p);
        return Prediction.newBuilder().setQuestionId(id).setTask("synthetic").setLaplace(probabilities).setMap(probabilities)
                .setTemperature(probabilities).setPredicted(predicted).setConfidence(p).setEntropy(0.5).setEpistemic(0.01)
                .setLogitMean(List.of(0.0, 0.0)).setLogitCovariance(List.of(0.0, 0.0, 0.0, 0.0)).setPosteriorVersion(0)
                .setModel("bench").setAdapter("bench").setQueueLatencyMs(0).setComputeLatencyMs(0).setBatchSize(1)
                .setScoredAt(Instant.now()).build();
    }
}
