package org.laplacelora.streams.demo;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.laplacelora.model.laplace.predictive.Method;
import org.laplacelora.model.metrics.Calibration;
import org.laplacelora.model.metrics.CalibrationScores;
import org.laplacelora.schemas.avro.LabelledOutcome;
import org.laplacelora.streams.calibrator.CalibratorTopology;
import org.laplacelora.schemas.avro.CalibrationMetrics;
import org.laplacelora.schemas.registry.InProcessSchemaRegistry;
import org.laplacelora.streams.calibrator.CalibratorApp;
import org.laplacelora.streams.dashboard.DashboardApp;
import org.laplacelora.streams.telemetry.HttpSettings;
import org.laplacelora.streams.kafka.EmbeddedKafka;
import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.posteriors.ServedModel;
import org.laplacelora.streams.produce.QuestionProducer;
import org.laplacelora.streams.refit.RefitterApp;
import org.laplacelora.streams.scorer.QuestionScorer;
import org.laplacelora.streams.scorer.ScorerApp;

/**
 * The whole pipeline in this process: an embedded Kafka broker and schema registry, the scorer (following
 * the posteriors topic), the calibrator and the refitter, questions replayed with delayed labels (and
 * malformed records when asked), a live table of windowed calibration, and a summary at the end.
 */
public final class DemoRun {
    private DemoRun() {}

    /** What is done with the summary while the stack (and the dashboard) still runs. */
    @FunctionalInterface
    public interface Report {
        void accept(DemoSummary s) throws java.io.IOException;
    }

    /**
     * @param refitterModel the refitter's own copy of model, adapter and posterior (it trains while the scorer serves)
     * @param report what to do with the summary before the stack stops
     */
    public static DemoSummary run(QuestionScorer scorer, ServedModel refitterModel, DemoSettings o, PrintStream out, Report report)
            throws Exception {
        long started = System.nanoTime();
        Path data = o.dataDir() == null ? null : o.dataDir().toAbsolutePath();
        try (EmbeddedKafka kafkaServer = EmbeddedKafka.start(data == null ? null : data.resolve("kafka"), o.kafkaPort(), 0);
             InProcessSchemaRegistry registryServer = InProcessSchemaRegistry.start(o.registryPort(),
                     data == null ? null : data.resolve("schema-registry.json"))) {
            KafkaSettings kafka = KafkaSettings.of(kafkaServer.bootstrapServers(), registryServer.url(), null, (short) 1);
            kafkaServer.createTopics(kafka.topics().newTopics(o.partitions(), (short) 1));
            out.printf("embedded Kafka at %s, schema registry at %s%n", kafka.bootstrapServers(), registryServer.url());
            try (DashboardApp dashboard = o.dashboardPort() == null ? null
                    : DashboardApp.start(kafka, HttpSettings.plain("127.0.0.1", o.dashboardPort(), "--dashboard-port"), "demo-dashboard")) {
                if (dashboard != null) {
                    out.printf("%ndashboard: %s   (open it to watch the drift, the refit and the recovery; every component's "
                            + "Prometheus metrics at %smetrics)%n%n", dashboard.url(), dashboard.url());
                    out.flush();
                }
                DemoSummary s = services(scorer, refitterModel, o, out, kafka, started);
                report.accept(s);
                if (dashboard != null && o.dashboardLinger().toMillis() > 0) {
                    out.printf("the dashboard stays at %s for %d s (Ctrl-C ends it)%n", dashboard.url(), o.dashboardLinger().toSeconds());
                    out.flush();
                    try {
                        Thread.sleep(o.dashboardLinger().toMillis());
                    } catch (InterruptedException e) {
                        // asked to end the linger: go on and close everything (the interrupt is consumed here)
                    }
                }
                return s;
            }
        }
    }

    private static DemoSummary services(QuestionScorer scorer, ServedModel refitterModel, DemoSettings o, PrintStream out, KafkaSettings kafka,
                                        long started) throws Exception {
        Path state = Files.createTempDirectory("laplace-lora-demo-state");
        DemoCollector collector = new DemoCollector(kafka, out, started);
        Thread collecting = new Thread(collector, "demo-collector");
        try (RefitterApp refitter = RefitterApp.start(kafka, refitterModel, o.refitter(), "demo-refitter", state.resolve("refitter"));
             ScorerApp scorerApp = ScorerApp.start(kafka, scorer, o.scorer(), "demo-scorer", state.resolve("scorer"));
             CalibratorApp calibratorApp = CalibratorApp.start(kafka, o.calibrator(), "demo-calibrator", state.resolve("calibrator"))) {
            collecting.start();
            out.printf("scorer, calibrator and refitter running; publishing %d questions (%s) with labels %d ms later%s%n%n",
                    o.questions(), shifts(o.shifts()), o.labelDelay().toMillis(),
                    o.injectBad() > 0 ? ", and " + o.injectBad() + " malformed records" : "");
            DemoCollector.printHeader(out);
            long published;
            long bad;
            try (QuestionProducer producer = new QuestionProducer(kafka, o.labelDelay(), 1.0, 0)) {
                producer.publish(o.questions(), o.question(), i -> Map.of("segment", String.valueOf(o.segment(i))),
                        o.injectBad(), o.rate(), i -> {});
                producer.close();
                published = producer.questionsSent();
                bad = producer.badSent();
            }
            int expectedWindows = (int) (published / o.calibrator().windowSize());
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
            s.posteriorSwaps = scorerApp.watcher().swaps();
            s.posteriorRejections = scorerApp.watcher().rejections();
            return s;
    }
    }

    private static DemoSummary summary(DemoCollector c, long published, DemoSettings o, long started) {
        DemoSummary s = new DemoSummary();
        s.questionsPublished = published;
        s.predictions = c.predictionCounts.size();
        s.duplicatePredictions = c.predictionCounts.values().stream().mapToLong(n -> n - 1).sum();
        s.deadLetterReasons.putAll(new java.util.TreeMap<>(c.deadLetterReasons));
        s.deadLetters = c.deadLetterReasons.values().stream().mapToLong(Long::longValue).sum();
        s.foreignRecords = c.foreignRecords.get();
        s.shifts = o.shifts();
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
        c.driftEvents.forEach(d -> s.driftEvents.add(new DemoSummary.Drift(d.getAtQuestion() != null
                ? DemoCollector.questionIndex(d.getAtQuestion()) : c.questionOfOutcome.getOrDefault(d.getAtOutcome(), d.getAtOutcome()),
                d.getDetector(), d.getMethod(), d.getKind() == null ? "label" : d.getKind())));
        new java.util.TreeMap<>(c.firstUseOfVersion).forEach((v, q) -> s.posteriorVersions.add(new DemoSummary.Version(v, q)));
        s.phases.addAll(phases(s.phaseStarts(published), c.outcomes, published));
        c.refitReports.forEach(r -> s.refits.add(new DemoSummary.Refit(r.getVersion(), r.getAccepted(), r.getTrigger(), r.getReason(),
                r.getSeconds(), r.getHeldOutBefore() == null ? Double.NaN : r.getHeldOutBefore().getNll(),
                r.getHeldOutAfter() == null ? Double.NaN : r.getHeldOutAfter().getNll(), r.getRefitMode(), r.getForgetting())));
        s.secondsToFirstPrediction = c.secondsToFirstPrediction();
        s.seconds = (System.nanoTime() - started) / 1e9;
        return s;
    }

    private static String shifts(java.util.List<Integer> shifts) {
        return switch (shifts.size()) {
            case 0 -> "no shift";
            case 1 -> "a shift at question " + shifts.get(0);
            default -> "shifts at questions " + shifts.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(" and "));
        };
    }

    /** Each phase's labelled outcomes pooled (not a mean of window metrics), per method. */
    static List<DemoSummary.PooledPhase> phases(List<Map.Entry<Long, String>> starts, List<LabelledOutcome> outcomes, long questions) {
        List<DemoSummary.PooledPhase> out = new ArrayList<>();
        for (int k = 0; k < starts.size(); k++) {
            long from = starts.get(k).getKey();
            long to = k + 1 < starts.size() ? starts.get(k + 1).getKey() : questions;
            Map<Method, Calibration> pooled = new EnumMap<>(Method.class);
            CalibratorTopology.METHODS.forEach(m -> pooled.put(m, new Calibration()));
            for (LabelledOutcome o : outcomes) {
                long q = DemoCollector.questionIndex(o.getPrediction().getQuestionId());
                if (q >= from && q < to) {
                    pooled.forEach((m, c) -> c.add(CalibratorTopology.probabilities(o.getPrediction(), m), o.getLabel()));
                }
            }
            out.add(new DemoSummary.PooledPhase(starts.get(k).getValue(), from, to - 1, pooled.get(Method.LAPLACE).metrics().n(),
                    metrics(pooled.get(Method.LAPLACE)), metrics(pooled.get(Method.TEMPERATURE)), metrics(pooled.get(Method.MAP))));
        }
        return out;
    }

    private static DemoSummary.MethodMetrics metrics(Calibration c) {
        CalibrationScores m = c.metrics();
        return new DemoSummary.MethodMetrics(m.accuracy(), m.ece(), m.nll(), m.accuracy() + m.meanConfidenceMinusAccuracy());
    }

    private static DemoSummary.MethodMetrics metrics(CalibrationMetrics m) {
        return new DemoSummary.MethodMetrics(m.getAccuracy(), m.getEce(), m.getNll(), m.getAccuracy() + m.getMeanConfidenceMinusAccuracy());
    }
}
