package org.laplacelora.streams.bench;

import java.io.PrintStream;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.laplacelora.model.tasks.Example;
import org.laplacelora.schemas.avro.Label;
import org.laplacelora.schemas.avro.Prediction;
import org.laplacelora.schemas.avro.Question;
import org.laplacelora.schemas.registry.InProcessSchemaRegistry;
import org.laplacelora.streams.calibrator.CalibratorApp;
import org.laplacelora.streams.calibrator.CalibratorSettings;
import org.laplacelora.streams.kafka.EmbeddedKafka;
import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.kafka.Topics;
import org.laplacelora.streams.posteriors.ServedModel;
import org.laplacelora.streams.produce.QuestionProducer;
import org.laplacelora.streams.scorer.QuestionScorer;
import org.laplacelora.streams.scorer.ScorerApp;
import org.laplacelora.streams.scorer.ScorerSettings;

/**
 * Throughput of the scorer through Kafka (questions already in the topic, exactly-once, one partition, one
 * stream thread) against the bare model scoring the same questions in batches of the same size, and of the
 * calibrator alone on prepared predictions and labels.
 */
public final class PipelineBenchmark {
    public record Result(double bareQuestionsPerSecond, double pipelineQuestionsPerSecond, double outcomesPerSecond) {}

    private PipelineBenchmark() {}

    /** @param settings the scorer's micro-batches and commit interval (the calibrator commits as often) */
    public static Result run(QuestionScorer scorer, List<Example> questions, ScorerSettings settings, PrintStream out) throws Exception {
        int batch = settings.batching().maxBatch();
        List<Question> avro = questions.stream().map(e -> QuestionProducer.toQuestion(e, Map.of())).toList();
        // Bare model: validate (tokenize) and score in batches.
        scoreBare(scorer, avro.subList(0, Math.min(avro.size(), 4 * batch)), batch);    // warm-up
        long t0 = System.nanoTime();
        scoreBare(scorer, avro, batch);
        double bare = avro.size() / ((System.nanoTime() - t0) / 1e9);
        out.printf("bare model: %d questions in batches of %d: %.1f questions/s%n", avro.size(), batch, bare);

        try (EmbeddedKafka kafkaServer = EmbeddedKafka.start(null, 0, 0);
             InProcessSchemaRegistry registryServer = InProcessSchemaRegistry.start(0, null)) {
            KafkaSettings kafka = KafkaSettings.of(kafkaServer.bootstrapServers(), registryServer.url(), null, (short) 1);
            Topics topics = kafka.topics();
            kafkaServer.createTopics(topics.newTopics(1, (short) 1));
            try (KafkaProducer<String, byte[]> p = kafka.producer()) {
                for (Question q : avro) {
                    p.send(topics.questions().record(q.getId(), q));
                }
            }
            double pipeline;
            List<byte[]> predictions;
            try (ScorerApp app = ScorerApp.start(kafka, scorer, settings, "bench-scorer", Files.createTempDirectory("bench-scorer"))) {
                long start = System.nanoTime();
                predictions = readCommitted(kafka, topics.predictions().name(), avro.size(), Duration.ofMinutes(10));
                pipeline = predictions.size() / ((System.nanoTime() - start) / 1e9);
            }
            int scoreAhead = settings.batching().scoreAhead();
            out.printf("through Kafka (exactly once, micro-batches of %d, %s, commits every %d ms): %d predictions: %.1f questions/s "
                    + "= %.0f%% of the bare model%n", batch, scoreAhead == 0 ? "scored on the stream thread"
                    : "up to " + scoreAhead + " scored ahead on their own thread", settings.commitInterval().toMillis(), predictions.size(),
                    pipeline, 100 * pipeline / bare);
            // Where the time went: scoring (each prediction carries its batch's compute time) against the rest.
            double scoringSeconds = 0;
            long firstScored = Long.MAX_VALUE;
            long lastScored = Long.MIN_VALUE;
            for (byte[] b : predictions) {
                Prediction x = topics.predictions().deserialize(b);
                scoringSeconds += x.getComputeLatencyMs() / 1e3 / x.getBatchSize();
                firstScored = Math.min(firstScored, x.getScoredAt().toEpochMilli());
                lastScored = Math.max(lastScored, x.getScoredAt().toEpochMilli());
            }
            double wall = predictions.size() / pipeline;
            out.printf("  of which scoring %.1f s (%.1f questions/s while scoring), everything else (start-up, polling, decoding, "
                    + "state, producing, commits, reading back) %.1f s%n", scoringSeconds, predictions.size() / scoringSeconds,
                    wall - scoringSeconds);
            double steady = (predictions.size() - batch) / Math.max(1e-3, (lastScored - firstScored) / 1e3);
            out.printf("  steady state, from the first batch's predictions to the last's: %.1f questions/s = %.0f%% of the bare model%n",
                    steady, 100 * steady / bare);

            // Calibrator alone: the predictions just made, plus their labels.
            try (KafkaProducer<String, byte[]> p = kafka.producer()) {
                for (Example e : questions) {
                    p.send(topics.labels().record(e.question().id(),
                            Label.newBuilder().setQuestionId(e.question().id()).setLabel(e.label()).setLabelledAt(Instant.now()).build()));
                }
            }
            double outcomesPerSecond;
            try (CalibratorApp app = CalibratorApp.start(kafka, CalibratorSettings.defaults().withCommitInterval(settings.commitInterval()),
                    "bench-calibrator", Files.createTempDirectory("bench-calibrator"))) {
                long start = System.nanoTime();
                List<byte[]> outcomes = readCommitted(kafka, topics.labelledOutcomes().name(), avro.size(), Duration.ofMinutes(10));
                outcomesPerSecond = outcomes.size() / ((System.nanoTime() - start) / 1e9);
            }
            out.printf("calibrator alone: %d labelled outcomes: %.1f outcomes/s%n", avro.size(), outcomesPerSecond);
            return new Result(bare, pipeline, outcomesPerSecond);
        }
    }

    private static void scoreBare(QuestionScorer scorer, List<Question> qs, int batch) {
        for (int i = 0; i < qs.size(); i += batch) {
            List<ServedModel.Valid> valid = new ArrayList<>();
            for (Question q : qs.subList(i, Math.min(i + batch, qs.size()))) {
                valid.add(scorer.validate(q));
            }
            scorer.score(valid, System.currentTimeMillis());
        }
    }

    /** The first n records of a topic, read_committed, or what came within the timeout. */
    static List<byte[]> readCommitted(KafkaSettings kafka, String topic, int n, Duration timeout) {
        List<byte[]> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = kafka.readCommittedConsumer("bench-" + topic + "-" + System.nanoTime())) {
            c.subscribe(List.of(topic));
            long end = System.nanoTime() + timeout.toNanos();
            while (out.size() < n && System.nanoTime() < end) {
                c.poll(Duration.ofMillis(50)).forEach(r -> out.add(r.value()));
            }
        }
        return out;
    }
}
