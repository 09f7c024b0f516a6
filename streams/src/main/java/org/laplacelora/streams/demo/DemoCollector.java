package org.laplacelora.streams.demo;

import java.io.PrintStream;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.laplacelora.schemas.avro.CalibrationMetrics;
import org.laplacelora.schemas.avro.DeadLetter;
import org.laplacelora.schemas.avro.DriftEvent;
import org.laplacelora.schemas.avro.LabelledOutcome;
import org.laplacelora.schemas.avro.Prediction;
import org.laplacelora.schemas.avro.RefitReport;
import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.kafka.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
    /** Records on the demo's topics that someone else produced (or that the demo cannot read): counted apart. */
    final AtomicLong foreignRecords = new AtomicLong();
    private static final Pattern OWN_ID = Pattern.compile("q\\d{1,18}");
    private static final Logger LOG = LoggerFactory.getLogger(DemoCollector.class);
    final Map<Long, Long> questionOfOutcome = new ConcurrentHashMap<>();
    final Map<Long, Map<String, CalibrationMetrics>> windows = new TreeMap<>();
    final List<DriftEvent> driftEvents = new java.util.concurrent.CopyOnWriteArrayList<>();
    final List<RefitReport> refitReports = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Every labelled outcome, in the calibrator's order: what the phases pool. */
    final List<LabelledOutcome> outcomes = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final List<DriftEvent> unprinted = new java.util.ArrayList<>();
    volatile long firstPredictionAt = -1;
    private int printedWindows;

    DemoCollector(KafkaSettings kafka, PrintStream out, long started) {
        this.kafka = kafka;
        this.topics = kafka.topics();
        this.out = out;
        this.started = started;
    }

    /** The demo's question number of an id "q&lt;n&gt;"; -1 for an id of someone else's making. */
    static long questionIndex(String id) {
        return id != null && OWN_ID.matcher(id).matches() ? Long.parseLong(id.substring(1)) : -1;
    }

    /** Whether a record keyed so is the demo's own: one of its questions, or a malformed record it injected. */
    private static boolean own(String key) {
        return key != null && (OWN_ID.matcher(key).matches() || key.startsWith("bad-"));
    }

    @Override
    public void run() {
        try (KafkaConsumer<String, byte[]> c = kafka.readCommittedConsumer("demo-collector-" + started)) {
            c.subscribe(List.of(topics.predictions().name(), topics.questionsDlq().name(), topics.calibrationMetrics().name(),
                    topics.driftEvents().name(), topics.labelledOutcomes().name(), topics.refitReports().name()));
            while (!stop) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(100))) {
                    try {
                        handle(r);
                    } catch (RuntimeException e) {
                        // someone else's record on the demo's topics: reported, never fatal
                        foreignRecords.incrementAndGet();
                        LOG.warn("skipping a record the demo cannot read at {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.toString());
                    }
                }
                printDrift();
                printWindows();
            }
        }
    }

    private void handle(ConsumerRecord<String, byte[]> r) {
        String t = r.topic();
        if (t.equals(topics.predictions().name())) {
            Prediction x = topics.predictions().deserialize(r.value());
            if (questionIndex(x.getQuestionId()) < 0) {
                foreignRecords.incrementAndGet();
                return;
            }
            predictionCounts.merge(x.getQuestionId(), 1, Integer::sum);
            firstUseOfVersion.merge(x.getPosteriorVersion(), questionIndex(x.getQuestionId()), Math::min);
            if (firstPredictionAt < 0) {
                firstPredictionAt = System.nanoTime();
            }
        } else if (t.equals(topics.questionsDlq().name())) {
            DeadLetter d = topics.questionsDlq().deserialize(r.value());
            if (own(r.key())) {
                deadLetterReasons.merge(d.getReason(), 1L, Long::sum);
            } else {
                foreignRecords.incrementAndGet();
            }
        } else if (t.equals(topics.labelledOutcomes().name())) {
            LabelledOutcome o = topics.labelledOutcomes().deserialize(r.value());
            if (questionIndex(o.getPrediction().getQuestionId()) < 0) {
                foreignRecords.incrementAndGet();
                return;
            }
            questionOfOutcome.put(o.getSequence(), questionIndex(o.getPrediction().getQuestionId()));
            outcomes.add(o);
        } else if (t.equals(topics.driftEvents().name())) {
            DriftEvent d = topics.driftEvents().deserialize(r.value());
            driftEvents.add(d);
            unprinted.add(d);
        } else if (t.equals(topics.refitReports().name())) {
            RefitReport x = topics.refitReports().deserialize(r.value());
            refitReports.add(x);
            String gate = x.getGateBefore() == null || x.getGateAfter() == null ? ""
                    : String.format(" gate rows: Laplace-LoRA acc %.0f%% → %.0f%%, NLL %.3f → %.3f, ECE %.1f%% → %.1f%%;",
                            100 * x.getGateBefore().getLaplace().getAccuracy(), 100 * x.getGateAfter().getLaplace().getAccuracy(),
                            x.getGateBefore().getLaplace().getNll(), x.getGateAfter().getLaplace().getNll(),
                            100 * x.getGateBefore().getLaplace().getEce(), 100 * x.getGateAfter().getLaplace().getEce());
            String rows = x.getTuningExamples() == null ? String.format(" %d fitted + %d held out", x.getFitExamples(), x.getHeldOutExamples())
                    : String.format(" %d fit, %d tune, %d gate", x.getFitExamples(), x.getTuningExamples(), x.getGateExamples());
            String mode = x.getRefitMode() == null ? "" : " " + x.getRefitMode()
                    + (x.getForgetting() == null ? "" : String.format(" (τ_f %.2g)", x.getForgetting()));
            out.printf("  %s%s refit on %s: %s%s%s, %.1f s%n", x.getAccepted() ? "↻" : "✗", mode, x.getTrigger(),
                    x.getAccepted() ? "version " + x.getVersion() + " published;" : "rejected (" + x.getReason() + ");", gate, rows,
                    x.getSeconds());
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

    /** The drift events of one poll on one line: a shift usually sets off several detectors at once. */
    private void printDrift() {
        if (unprinted.isEmpty()) {
            return;
        }
        Map<String, List<String>> byOutcome = new java.util.LinkedHashMap<>();
        for (DriftEvent d : unprinted) {
            String where = d.getAtQuestion() != null ? "at prediction " + d.getAtQuestion() : "after labelled outcome " + d.getAtOutcome();
            byOutcome.computeIfAbsent(where, k -> new java.util.ArrayList<>())
                    .add(DemoSummary.describe(d.getDetector(), d.getMethod(), d.getKind()));
        }
        byOutcome.forEach((where, what) -> out.printf("  ! drift %s: %s%n", where, String.join(", ", what)));
        unprinted.clear();
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
                        pct(ts.getAccuracy()), pct(ts.getEce()), nats(ts.getNll()), pct(la.getAccuracy()), pct(la.getEce()), nats(la.getNll()),
                        la.getPosteriorVersion());
                printedWindows++;
            }
        }
    }

    private static final String ROW = "  %11s %4s | %5s %5s %6s | %5s %5s %6s | %5s %5s %6s | %3s%n";

    static void printHeader(PrintStream out) {
        out.printf("  %16s | %18s | %18s | %18s | posterior%n", "", center("MAP", 18), center("temperature", 18),
                center("Laplace-LoRA", 18));
        out.printf(ROW, "questions", "n", "acc%", "ECE%", "NLL", "acc%", "ECE%", "NLL", "acc%", "ECE%", "NLL", "version");
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
