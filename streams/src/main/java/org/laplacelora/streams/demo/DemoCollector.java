package org.laplacelora.streams.demo;

import java.io.PrintStream;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.laplacelora.schemas.avro.CalibrationMetrics;
import org.laplacelora.schemas.avro.DeadLetter;
import org.laplacelora.schemas.avro.DriftEvent;
import org.laplacelora.schemas.avro.LabelledOutcome;
import org.laplacelora.schemas.avro.Prediction;
import org.laplacelora.schemas.avro.RefitReport;
import org.laplacelora.schemas.registry.SchemaRegistry;
import org.laplacelora.schemas.serde.ConfluentAvroSerde;
import org.laplacelora.streams.config.KafkaSettings;
import org.laplacelora.streams.config.Topics;

/**
 * Reads everything the pipeline publishes (read_committed, as any downstream consumer would), prints the
 * live table of windowed calibration, and gathers the demo's summary.
 */
final class DemoCollector implements Runnable {
    private final KafkaSettings kafka;
    private final Topics topics;
    private final PrintStream out;
    private final ConfluentAvroSerde<Prediction> predictions;
    private final ConfluentAvroSerde<DeadLetter> deadLetters;
    private final ConfluentAvroSerde<CalibrationMetrics> metrics;
    private final ConfluentAvroSerde<DriftEvent> drift;
    private final ConfluentAvroSerde<LabelledOutcome> outcomes;
    private final ConfluentAvroSerde<RefitReport> reports;
    private final long started;
    private volatile boolean stop;

    final Map<String, Integer> predictionCounts = new ConcurrentHashMap<>();
    final Map<Long, Long> firstUseOfVersion = new ConcurrentHashMap<>();
    final Map<String, Long> deadLetterReasons = new ConcurrentHashMap<>();
    final Map<Long, Long> questionOfOutcome = new ConcurrentHashMap<>();
    final Map<Long, Map<String, CalibrationMetrics>> windows = new TreeMap<>();
    final List<DriftEvent> driftEvents = new java.util.concurrent.CopyOnWriteArrayList<>();
    final List<RefitReport> refitReports = new java.util.concurrent.CopyOnWriteArrayList<>();
    volatile long firstPredictionAt = -1;
    private int printedWindows;

    DemoCollector(KafkaSettings kafka, SchemaRegistry registry, PrintStream out, long started) {
        this.kafka = kafka;
        this.topics = kafka.topics();
        this.out = out;
        this.started = started;
        this.predictions = ConfluentAvroSerde.value(Prediction.class, registry);
        this.deadLetters = ConfluentAvroSerde.value(DeadLetter.class, registry);
        this.metrics = ConfluentAvroSerde.value(CalibrationMetrics.class, registry);
        this.drift = ConfluentAvroSerde.value(DriftEvent.class, registry);
        this.outcomes = ConfluentAvroSerde.value(LabelledOutcome.class, registry);
        this.reports = ConfluentAvroSerde.value(RefitReport.class, registry);
    }

    static long questionIndex(String id) {
        return Long.parseLong(id.substring(1));
    }

    @Override
    public void run() {
        Map<String, Object> p = new HashMap<>(kafka.kafka());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "demo-collector-" + started);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
            c.subscribe(List.of(topics.predictions(), topics.questionsDlq(), topics.calibrationMetrics(), topics.driftEvents(),
                    topics.labelledOutcomes(), topics.refitReports()));
            while (!stop) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(100))) {
                    handle(r);
                }
                printWindows();
            }
        }
    }

    private void handle(ConsumerRecord<String, byte[]> r) {
        String t = r.topic();
        if (t.equals(topics.predictions())) {
            Prediction x = predictions.deserialize(t, r.value());
            predictionCounts.merge(x.getQuestionId(), 1, Integer::sum);
            firstUseOfVersion.merge(x.getPosteriorVersion(), questionIndex(x.getQuestionId()), Math::min);
            if (firstPredictionAt < 0) {
                firstPredictionAt = System.nanoTime();
            }
        } else if (t.equals(topics.questionsDlq())) {
            deadLetterReasons.merge(deadLetters.deserialize(t, r.value()).getReason(), 1L, Long::sum);
        } else if (t.equals(topics.labelledOutcomes())) {
            LabelledOutcome o = outcomes.deserialize(t, r.value());
            questionOfOutcome.put(o.getSequence(), questionIndex(o.getPrediction().getQuestionId()));
        } else if (t.equals(topics.driftEvents())) {
            DriftEvent d = drift.deserialize(t, r.value());
            driftEvents.add(d);
            out.printf("  ! drift detected by %s after labelled outcome %d (statistic %.3g > %.3g)%n", d.getDetector(),
                    d.getAtOutcome(), d.getStatistic(), d.getThreshold());
        } else if (t.equals(topics.refitReports())) {
            RefitReport x = reports.deserialize(t, r.value());
            refitReports.add(x);
            String heldOut = x.getHeldOutBefore() == null || x.getHeldOutAfter() == null ? ""
                    : String.format(" held-out Laplace NLL %.3f → %.3f, ECE %.1f%% → %.1f%%;", x.getHeldOutBefore().getNll(),
                            x.getHeldOutAfter().getNll(), 100 * x.getHeldOutBefore().getEce(), 100 * x.getHeldOutAfter().getEce());
            out.printf("  %s refit on %s: %s%s %d fitted + %d held out, %.1f s%n", x.getAccepted() ? "↻" : "✗", x.getTrigger(),
                    x.getAccepted() ? "posterior version " + x.getVersion() + " published;" : "rejected;", heldOut,
                    x.getFitExamples(), x.getHeldOutExamples(), x.getSeconds());
        } else {
            CalibrationMetrics m = metrics.deserialize(t, r.value());
            if (m.getScope().equals("window")) {
                long index = Long.parseLong(r.key().substring(r.key().lastIndexOf('|') + 1));
                synchronized (windows) {
                    windows.computeIfAbsent(index, k -> new HashMap<>()).put(m.getMethod(), m);
                }
            }
        }
    }

    private void printWindows() {
        synchronized (windows) {
            while (windows.containsKey((long) printedWindows) && windows.get((long) printedWindows).size() == 3) {
                Map<String, CalibrationMetrics> w = windows.get((long) printedWindows);
                CalibrationMetrics la = w.get("laplace");
                long[] range = questionRange(la);
                CalibrationMetrics map = w.get("map");
                CalibrationMetrics ts = w.get("temperature");
                out.printf(ROW, range[0] + "-" + range[1], la.getN(), pct(map.getAccuracy()), pct(map.getEce()), nats(map.getNll()),
                        pct(ts.getEce()), nats(ts.getNll()), pct(la.getAccuracy()), pct(la.getEce()), nats(la.getNll()),
                        la.getPosteriorVersion());
                printedWindows++;
            }
        }
    }

    private static final String ROW = "  %11s %4s | %5s %5s %6s | %5s %6s | %5s %5s %6s | %3s%n";

    static void printHeader(PrintStream out) {
        out.printf("  %16s | %18s | %12s | %18s | posterior%n", "", center("MAP", 18), center("temperature", 12),
                center("Laplace-LoRA", 18));
        out.printf(ROW, "questions", "n", "acc%", "ECE%", "NLL", "ECE%", "NLL", "acc%", "ECE%", "NLL", "version");
    }

    private static String center(String s, int width) {
        int left = (width - s.length()) / 2;
        return " ".repeat(Math.max(0, left)) + s + " ".repeat(Math.max(0, width - left - s.length()));
    }

    private static String pct(double x) {
        return String.format("%.1f", 100 * x);
    }

    private static String nats(double x) {
        return String.format("%.2f", x);
    }

    /** First and last question index of a window's outcomes (outcome sequence numbers where not yet known). */
    long[] questionRange(CalibrationMetrics m) {
        long lo = Long.MAX_VALUE;
        long hi = Long.MIN_VALUE;
        for (long s = m.getFirstOutcome(); s <= m.getLastOutcome(); s++) {
            Long q = questionOfOutcome.get(s);
            if (q != null) {
                lo = Math.min(lo, q);
                hi = Math.max(hi, q);
            }
        }
        return lo == Long.MAX_VALUE ? new long[] {m.getFirstOutcome(), m.getLastOutcome()} : new long[] {lo, hi};
    }

    int windowsComplete() {
        synchronized (windows) {
            return (int) windows.values().stream().filter(w -> w.size() == 3).count();
        }
    }

    double secondsToFirstPrediction() {
        return firstPredictionAt < 0 ? Double.NaN : (firstPredictionAt - started) / 1e9;
    }

    void stop() {
        stop = true;
    }
}
