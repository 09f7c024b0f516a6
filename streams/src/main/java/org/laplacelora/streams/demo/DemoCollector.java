package org.laplacelora.streams.demo;

import java.io.PrintStream;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.laplacelora.schemas.avro.CalibrationMetrics;
import org.laplacelora.schemas.avro.DriftEvent;
import org.laplacelora.schemas.avro.LabelledOutcome;
import org.laplacelora.schemas.avro.Prediction;
import org.laplacelora.schemas.avro.RefitReport;
import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.kafka.Topics;

/**
 * Reads everything the pipeline publishes (read_committed, as any downstream consumer would), prints the
 * live table of windowed calibration, and gathers the demo's summary.
 */
final class DemoCollector implements Runnable {
    private final KafkaSettings kafka;
    private final Topics topics;
    private final PrintStream out;
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

    DemoCollector(KafkaSettings kafka, PrintStream out, long started) {
        this.kafka = kafka;
        this.topics = kafka.topics();
        this.out = out;
        this.started = started;
    }

    static long questionIndex(String id) {
        return Long.parseLong(id.substring(1));
    }

    @Override
    public void run() {
        try (KafkaConsumer<String, byte[]> c = kafka.readCommittedConsumer("demo-collector-" + started)) {
            c.subscribe(List.of(topics.predictions().name(), topics.questionsDlq().name(), topics.calibrationMetrics().name(),
                    topics.driftEvents().name(), topics.labelledOutcomes().name(), topics.refitReports().name()));
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
        if (t.equals(topics.predictions().name())) {
            Prediction x = topics.predictions().deserialize(r.value());
            predictionCounts.merge(x.getQuestionId(), 1, Integer::sum);
            firstUseOfVersion.merge(x.getPosteriorVersion(), questionIndex(x.getQuestionId()), Math::min);
            if (firstPredictionAt < 0) {
                firstPredictionAt = System.nanoTime();
            }
        } else if (t.equals(topics.questionsDlq().name())) {
            deadLetterReasons.merge(topics.questionsDlq().deserialize(r.value()).getReason(), 1L, Long::sum);
        } else if (t.equals(topics.labelledOutcomes().name())) {
            LabelledOutcome o = topics.labelledOutcomes().deserialize(r.value());
            questionOfOutcome.put(o.getSequence(), questionIndex(o.getPrediction().getQuestionId()));
        } else if (t.equals(topics.driftEvents().name())) {
            DriftEvent d = topics.driftEvents().deserialize(r.value());
            driftEvents.add(d);
            out.printf("  ! drift detected by %s after labelled outcome %d (statistic %.3g > %.3g)%n", d.getDetector(),
                    d.getAtOutcome(), d.getStatistic(), d.getThreshold());
        } else if (t.equals(topics.refitReports().name())) {
            RefitReport x = topics.refitReports().deserialize(r.value());
            refitReports.add(x);
            String heldOut = x.getHeldOutBefore() == null || x.getHeldOutAfter() == null ? ""
                    : String.format(" held-out Laplace NLL %.3f → %.3f, ECE %.1f%% → %.1f%%;", x.getHeldOutBefore().getNll(),
                            x.getHeldOutAfter().getNll(), 100 * x.getHeldOutBefore().getEce(), 100 * x.getHeldOutAfter().getEce());
            out.printf("  %s refit on %s: %s%s %d fitted + %d held out, %.1f s%n", x.getAccepted() ? "↻" : "✗", x.getTrigger(),
                    x.getAccepted() ? "posterior version " + x.getVersion() + " published;" : "rejected;", heldOut,
                    x.getFitExamples(), x.getHeldOutExamples(), x.getSeconds());
        } else {
            CalibrationMetrics m = topics.calibrationMetrics().deserialize(r.value());
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
