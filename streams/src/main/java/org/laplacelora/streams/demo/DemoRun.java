package org.laplacelora.streams.demo;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import org.laplacelora.model.tasks.Example;
import org.laplacelora.schemas.avro.CalibrationMetrics;
import org.laplacelora.schemas.registry.InProcessSchemaRegistry;
import org.laplacelora.schemas.registry.SchemaRegistry;
import org.laplacelora.streams.calibrator.CalibratorSettings;
import org.laplacelora.streams.calibrator.CalibratorTopology;
import org.laplacelora.streams.config.KafkaSettings;
import org.laplacelora.streams.config.StreamsRunner;
import org.laplacelora.streams.embedded.EmbeddedKafka;
import org.laplacelora.streams.produce.QuestionProducer;
import org.laplacelora.streams.refit.PosteriorWatcher;
import org.laplacelora.streams.refit.RefitSettings;
import org.laplacelora.streams.refit.RefitterApp;
import org.laplacelora.streams.scorer.QuestionScorer;
import org.laplacelora.streams.scorer.ScorerTopology;

/**
 * The whole pipeline in this process: an embedded Kafka broker and schema registry, the scorer (following
 * the posteriors topic), the calibrator and the refitter, questions replayed with delayed labels (and
 * malformed records when asked), a live table of windowed calibration, and a summary at the end.
 */
public final class DemoRun {
    /**
     * @param question the i-th question of the stream (its id must be "q" + i)
     * @param dataDir the broker's and registry's data directory; null for a temporary one
     */
    public record Options(int questions, int driftAt, int injectBad, double rate, Duration labelDelay, int windowSize,
                          int partitions, Path dataDir, int kafkaPort, int registryPort, int maxBatch, Duration maxWait,
                          CalibratorSettings calibrator, RefitSettings refit, IntFunction<Example> question) {}

    private DemoRun() {}

    /** @param refitterScorer the refitter's own copy of model, adapter and posterior (it trains while the scorer serves) */
    public static DemoSummary run(QuestionScorer scorer, QuestionScorer refitterScorer, Options o, PrintStream out) throws Exception {
        long started = System.nanoTime();
        Path data = o.dataDir() == null ? null : o.dataDir().toAbsolutePath();
        try (EmbeddedKafka kafkaServer = EmbeddedKafka.start(data == null ? null : data.resolve("kafka"), o.kafkaPort(), 0);
             InProcessSchemaRegistry registryServer = InProcessSchemaRegistry.start(o.registryPort(),
                     data == null ? null : data.resolve("schema-registry.json"))) {
            KafkaSettings kafka = KafkaSettings.of(kafkaServer.bootstrapServers(), registryServer.url(), null, (short) 1);
            kafkaServer.createTopics(kafka.topics().newTopics(o.partitions(), (short) 1));
            SchemaRegistry registry = kafka.registry();
            out.printf("embedded Kafka at %s, schema registry at %s%n", kafka.bootstrapServers(), registryServer.url());
            Path state = Files.createTempDirectory("laplace-lora-demo-state");
            DemoCollector collector = new DemoCollector(kafka, registry, out, started);
            Thread collecting = new Thread(collector, "demo-collector");
            try (PosteriorWatcher watcher = new PosteriorWatcher(kafka, registry, scorer, "demo-scorer").start();
                 RefitterApp refitter = RefitterApp.start(kafka, registry, refitterScorer, o.refit(), "demo-refitter", state.resolve("refitter"));
                 StreamsRunner scorerApp = StreamsRunner.start(ScorerTopology.build(kafka.topics(), scorer,
                         org.laplacelora.schemas.serde.ConfluentAvroSerde.value(org.laplacelora.schemas.avro.Question.class, registry).deserializer(),
                         org.laplacelora.schemas.serde.ConfluentAvroSerde.value(org.laplacelora.schemas.avro.Prediction.class, registry).serializer(),
                         org.laplacelora.schemas.serde.ConfluentAvroSerde.value(org.laplacelora.schemas.avro.DeadLetter.class, registry).serializer(),
                         new ScorerTopology.Batching(o.maxBatch(), o.maxWait())), kafka, "demo-scorer", state.resolve("scorer"),
                         Duration.ofMillis(100), ScorerTopology.STREAMS_SETTINGS);
                 StreamsRunner calibratorApp = StreamsRunner.start(calibrator(kafka, registry, o.calibrator()), kafka,
                         "demo-calibrator", state.resolve("calibrator"), Duration.ofMillis(100))) {
                collecting.start();
                out.printf("scorer, calibrator and refitter running; publishing %d questions (drift at question %d) with labels %d ms later%s%n%n",
                        o.questions(), o.driftAt(), o.labelDelay().toMillis(),
                        o.injectBad() > 0 ? ", and " + o.injectBad() + " malformed records" : "");
                DemoCollector.printHeader(out);
                long published;
                long bad;
                try (QuestionProducer producer = new QuestionProducer(kafka, registry, o.labelDelay(), 1.0, 0)) {
                    int injected = 0;
                    long t0 = System.nanoTime();
                    for (int i = 0; i < o.questions(); i++) {
                        Example e = o.question().apply(i);
                        producer.send(e, Map.of("segment", i >= o.driftAt() ? "drifted" : "original"));
                        while (injected < o.injectBad() && (long) (injected + 1) * o.questions() <= (long) (i + 1) * o.injectBad()) {
                            producer.sendBad(injected++, e);
                        }
                        if (o.rate() > 0) {
                            long sleep = t0 + (long) ((i + 1) * 1e9 / o.rate()) - System.nanoTime();
                            if (sleep > 0) {
                                Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
                            }
                        }
                    }
                    producer.close();
                    published = producer.questionsSent();
                    bad = producer.badSent();
                }
                int expectedWindows = (int) (published / o.windowSize());
                long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
                while (System.nanoTime() < deadline && (collector.predictionCounts.size() < published
                        || collector.deadLetterReasons.values().stream().mapToLong(Long::longValue).sum() < bad
                        || collector.windowsComplete() < expectedWindows)) {
                    Thread.sleep(100);
                }
                Thread.sleep(500); // anything late (a duplicate would show here)
                collector.stop();
                collecting.join();
                DemoSummary s = summary(collector, published, o, started);
                s.posteriorSwaps = watcher.swaps();
                s.posteriorRejections = watcher.rejections();
                return s;
            }
        }
    }

    private static org.apache.kafka.streams.Topology calibrator(KafkaSettings kafka, SchemaRegistry r, CalibratorSettings s) {
        return CalibratorTopology.build(kafka.topics(), new CalibratorTopology.CalibratorSerdes(
                org.laplacelora.schemas.serde.ConfluentAvroSerde.value(org.laplacelora.schemas.avro.Question.class, r).deserializer(),
                org.laplacelora.schemas.serde.ConfluentAvroSerde.value(org.laplacelora.schemas.avro.Prediction.class, r),
                org.laplacelora.schemas.serde.ConfluentAvroSerde.value(org.laplacelora.schemas.avro.Label.class, r),
                org.laplacelora.schemas.serde.ConfluentAvroSerde.value(CalibrationMetrics.class, r),
                org.laplacelora.schemas.serde.ConfluentAvroSerde.value(org.laplacelora.schemas.avro.DriftEvent.class, r),
                org.laplacelora.schemas.serde.ConfluentAvroSerde.value(org.laplacelora.schemas.avro.LabelledOutcome.class, r)), s);
    }

    private static DemoSummary summary(DemoCollector c, long published, Options o, long started) {
        DemoSummary s = new DemoSummary();
        s.questionsPublished = published;
        s.predictions = c.predictionCounts.size();
        s.duplicatePredictions = c.predictionCounts.values().stream().mapToLong(n -> n - 1).sum();
        s.deadLetterReasons.putAll(new java.util.TreeMap<>(c.deadLetterReasons));
        s.deadLetters = c.deadLetterReasons.values().stream().mapToLong(Long::longValue).sum();
        s.driftAt = o.driftAt();
        synchronized (c.windows) {
            c.windows.forEach((index, w) -> {
                if (w.size() == 3) {
                    CalibrationMetrics la = w.get("laplace");
                    long[] range = c.questionRange(la);
                    s.windows.add(new DemoSummary.Window(range[0], range[1], la.getN(), metrics(la), metrics(w.get("temperature")),
                            metrics(w.get("map")), la.getPosteriorVersion()));
                }
            });
        }
        c.driftEvents.forEach(d -> s.driftEvents.add(new DemoSummary.Drift(
                c.questionOfOutcome.getOrDefault(d.getAtOutcome(), d.getAtOutcome()), d.getDetector())));
        new java.util.TreeMap<>(c.firstUseOfVersion).forEach((v, q) -> s.posteriorVersions.add(new DemoSummary.Version(v, q)));
        c.refitReports.forEach(r -> s.refits.add(new DemoSummary.Refit(r.getVersion(), r.getAccepted(), r.getTrigger(), r.getReason(),
                r.getSeconds(), r.getHeldOutBefore() == null ? Double.NaN : r.getHeldOutBefore().getNll(),
                r.getHeldOutAfter() == null ? Double.NaN : r.getHeldOutAfter().getNll())));
        s.secondsToFirstPrediction = c.secondsToFirstPrediction();
        s.seconds = (System.nanoTime() - started) / 1e9;
        return s;
    }

    private static DemoSummary.MethodMetrics metrics(CalibrationMetrics m) {
        return new DemoSummary.MethodMetrics(m.getAccuracy(), m.getEce(), m.getNll());
    }

    /** Deletes a directory tree (the demo's temporary state). */
    static void delete(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (var walk = Files.walk(dir)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
