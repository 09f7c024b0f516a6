package org.laplacelora.streams.calibrator;

import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.ContextualProcessor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.laplacelora.model.core.Categorical;
import org.laplacelora.model.laplace.predictive.Method;
import org.laplacelora.model.metrics.Calibration;
import org.laplacelora.model.metrics.CalibrationScores;
import org.laplacelora.schemas.avro.CalibrationMetrics;
import org.laplacelora.schemas.avro.CalibratorEvent;
import org.laplacelora.schemas.avro.DriftEvent;
import org.laplacelora.schemas.avro.LabelledOutcome;
import org.laplacelora.schemas.avro.Prediction;
import org.laplacelora.schemas.avro.ReliabilityBin;
import org.laplacelora.schemas.state.CalibratorState;
import org.laplacelora.schemas.state.OpenPredictions;
import org.laplacelora.schemas.state.SegmentState;
import org.laplacelora.schemas.state.VersionState;
import org.laplacelora.schemas.state.WindowState;
import org.laplacelora.streams.kafka.OrderedKeys;
import org.laplacelora.streams.kafka.StateSerde;

/**
 * The merging step: one task (the join's events of every partition come through a single partition, in one
 * order) that numbers the labelled outcomes, keeps running, per-posterior-version and tumbling-window
 * calibration of the three methods side by side, and watches for drift. The state is one record in a
 * changelogged store, written once per commit interval rather than per event (it is kilobytes); every event
 * since is kept in a journal store as the bytes that came, in the same transactions as the outputs, and a
 * restarted task replays the journal onto the last state record, so nothing is counted twice or lost.
 */
final class MetricsProcessor extends ContextualProcessor<String, byte[], String, Object> {
    private static final String KEY = "state";
    static final String OTHER_SEGMENT = "(other)";
    /** The state is written at least this often, in events, so that a restart replays little. */
    private static final int MAX_JOURNAL = 10_000;

    private final CalibratorSettings s;
    private final DriftDetectors detectors;
    private final Deserializer<CalibratorEvent> events = StateSerde.of(CalibratorEvent.class).deserializer();
    private KeyValueStore<String, CalibratorState> store;
    private KeyValueStore<String, byte[]> journal;
    /** The store's record with every journalled event applied. */
    private CalibratorState state;
    /** Journal keys [journalFirst, journalNext) hold the events since the state record was written. */
    private long journalFirst;
    private long journalNext;
    /** While the journal is replayed onto the state: nothing is forwarded (it went out when the events came). */
    private boolean replaying;

    MetricsProcessor(CalibratorSettings settings) {
        this.s = settings;
        this.detectors = new DriftDetectors(settings);
    }

    @Override
    public void init(ProcessorContext<String, Object> ctx) {
        super.init(ctx);
        this.store = ctx.getStateStore(CalibratorTopology.STATE_STORE);
        this.journal = ctx.getStateStore(CalibratorTopology.JOURNAL_STORE);
        this.state = null;     // a revived task (after an aborted transaction) starts over from its stores, not from memory
        ctx.schedule(s.commitInterval(), PunctuationType.WALL_CLOCK_TIME, now -> writeState());
    }

    /** The state record with the journal replayed onto it: read on the first event after the task starts. */
    private void load() {
        CalibratorState stored = store.get(KEY);
        this.state = stored == null ? initial() : stored;
        replaying = true;
        journalFirst = -1;
        journalNext = 0;
        try (KeyValueIterator<String, byte[]> it = journal.all()) {
            while (it.hasNext()) {
                KeyValue<String, byte[]> kv = it.next();
                long n = OrderedKeys.parse(kv.key);
                journalFirst = journalFirst < 0 ? n : journalFirst;
                journalNext = n + 1;
                apply(events.deserialize(null, kv.value));
            }
        }
        journalFirst = journalFirst < 0 ? 0 : journalFirst;
        replaying = false;
    }

    @Override
    public void process(Record<String, byte[]> r) {
        if (r.value() == null) {
            return;
        }
        if (state == null) {
            load();
        }
        journal.put(OrderedKeys.of(journalNext++), r.value());
        apply(events.deserialize(null, r.value()));
        if (journalNext - journalFirst >= MAX_JOURNAL) {
            writeState();
        }
    }

    /** The state record as it now is, and the journal it replaces dropped, in the open transaction. */
    private void writeState() {
        if (state == null || journalNext == journalFirst) {
            return;
        }
        store.put(KEY, state);
        for (long n = journalFirst; n < journalNext; n++) {
            journal.delete(OrderedKeys.of(n));
        }
        journalFirst = journalNext;
    }

    private void apply(CalibratorEvent ev) {
        EventKind kind = EventKind.parse(ev.getKind());
        if (kind == null) {
            return;
        }
        CalibratorState state = this.state;
        switch (kind) {
            case LABEL_MISSING -> {
                state.setLabelsMissing(state.getLabelsMissing() + 1);
                awaited(state, ev.getSignal() == null ? null : ev.getSignal().getConfidences(), -1);
            }
            case LABEL_LATE -> state.setLabelsLate(state.getLabelsLate() + 1);
            case OUTCOME -> {
                awaited(state, CalibratorTopology.confidences(ev.getOutcome().getPrediction()), -1);
                outcome(state, ev.getOutcome());
            }
            case PREDICTION -> {
                awaited(state, ev.getSignal().getConfidences(), +1);
                detectors.prediction(state, ev.getQuestionId(), ev.getSignal())
                        .forEach(f -> drift(f, state.getNextSequence() - 1, context().currentSystemTimeMs()));
            }
        }
    }

    private static CalibratorState initial() {
        return CalibratorState.newBuilder().setNextSequence(0).setLabelsMissing(0).setLabelsLate(0)
                .setRunning(CalibrationState.empty()).setWindow(emptyWindow(0)).setVersions(new ArrayList<>())
                .setPageHinkley(new HashMap<>()).setOpen(OpenPredictions.newBuilder().setN(0).setConfidenceSums(new ArrayList<>()).build())
                .setSegments(new HashMap<>()).setLabelFree(DriftDetectors.initialLabelFree()).build();
    }


    /**
     * Counts a prediction into (+1) or out of (−1) those awaiting their label. Events from before the calibrator
     * counted them carry no confidences, so the count never goes below zero.
     */
    private static void awaited(CalibratorState state, List<Double> confidences, int sign) {
        OpenPredictions open = state.getOpen();
        if (confidences == null || confidences.size() != CalibratorTopology.METHODS.size() || (sign < 0 && open.getN() == 0)) {
            return;
        }
        List<Double> sums = open.getConfidenceSums();
        while (sums.size() < confidences.size()) {
            sums.add(0.0);
        }
        open.setN(open.getN() + sign);
        for (int i = 0; i < confidences.size(); i++) {
            sums.set(i, open.getN() == 0 ? 0.0 : sums.get(i) + sign * confidences.get(i));
        }
    }

    /** The segment an outcome belongs to, or null; values past the bound are pooled as "(other)". */
    private String segment(CalibratorState state, LabelledOutcome o) {
        String value = o.getQuestion() == null ? null : o.getQuestion().getAttributes().get(s.segmentAttribute());
        if (value == null) {
            return null;
        }
        if (!state.getSegments().containsKey(value) && state.getSegments().size() >= s.maxSegments() - 1) {
            value = OTHER_SEGMENT;
        }
        state.getSegments().computeIfAbsent(value, v -> SegmentState.newBuilder().setRunning(CalibrationState.empty())
                .setWindow(CalibrationState.empty()).setWindowCount(0).build());
        return value;
    }

    private static WindowState emptyWindow(long index) {
        return WindowState.newBuilder().setIndex(index).setCount(0).setFirstOutcome(0).setStartMs(0).setEndMs(0)
                .setCalibration(CalibrationState.empty()).build();
    }

    private void outcome(CalibratorState state, LabelledOutcome o) {
        long now = context().currentSystemTimeMs();
        long seq = state.getNextSequence();
        state.setNextSequence(seq + 1);
        o.setSequence(seq);
        if (!replaying) {
            context().forward(new Record<>(o.getPrediction().getQuestionId(), (Object) o, now));
        }
        Prediction p = o.getPrediction();
        long version = p.getPosteriorVersion();
        WindowState w = state.getWindow();
        if (w.getCount() == 0) {
            w.setFirstOutcome(seq);
            w.setStartMs(p.getScoredAt().toEpochMilli());
        }
        w.setEndMs(Math.max(w.getEndMs(), p.getScoredAt().toEpochMilli()));
        VersionState v = version(state, version);
        String segmentName = segment(state, o);
        SegmentState segment = segmentName == null ? null : state.getSegments().get(segmentName);
        if (segment != null) {
            segment.setWindowCount(segment.getWindowCount() + 1);
        }
        for (Method m : CalibratorTopology.METHODS) {
            double[] probabilities = CalibratorTopology.probabilities(p, m);
            Calibration.Sums one = CalibrationState.one(probabilities, o.getLabel());
            CalibrationState.add(state.getRunning(), m, one);
            CalibrationState.add(v.getCalibration(), m, one);
            CalibrationState.add(w.getCalibration(), m, one);
            if (segment != null) {
                CalibrationState.add(segment.getRunning(), m, one);
                CalibrationState.add(segment.getWindow(), m, one);
            }
            boolean correct = Categorical.argmax(probabilities) == o.getLabel();
            detectors.outcome(state, m, probabilities[o.getLabel()], correct, version).forEach(f -> drift(f, seq, now));
        }
        w.setCount(w.getCount() + 1);
        if (w.getCount() >= s.windowSize()) {
            closeWindow(state, seq, version, now);
        }
    }

    /** The version's state, created on its first outcome. */
    private static VersionState version(CalibratorState state, long version) {
        for (VersionState v : state.getVersions()) {
            if (v.getVersion() == version) {
                return v;
            }
        }
        VersionState v = VersionState.newBuilder().setVersion(version).setCalibration(CalibrationState.empty())
                .setEceReferences(new HashMap<>()).build();
        state.getVersions().add(v);
        return v;
    }

    private void closeWindow(CalibratorState state, long lastSeq, long version, long now) {
        WindowState w = state.getWindow();
        long first = w.getFirstOutcome();
        Instant start = Instant.ofEpochMilli(w.getStartMs());
        Instant end = Instant.ofEpochMilli(w.getEndMs());
        VersionState v = version(state, version);
        long versionFirst = v.getFirstOutcome() == null ? first : v.getFirstOutcome();
        Map<Method, Double> windowEce = new EnumMap<>(Method.class);
        OpenPredictions open = state.getOpen();
        for (int i = 0; i < CalibratorTopology.METHODS.size(); i++) {
            Method m = CalibratorTopology.METHODS.get(i);
            CalibrationMetrics.Builder window = metrics(state, m, "window", CalibrationState.of(w.getCalibration(), m), start, end, first,
                    lastSeq, version, now).setOpenPredictions(open.getN())
                    .setEstimatedAccuracy(open.getN() == 0 ? null : open.getConfidenceSums().get(i) / open.getN());
            windowEce.put(m, window.getEce());
            forward(m.id() + "|window|" + w.getIndex(), window);
            forward(m.id() + "|running", metrics(state, m, "running", CalibrationState.of(state.getRunning(), m), null, null, 0, lastSeq,
                    version, now));
            forward(m.id() + "|version|" + version, metrics(state, m, "version", CalibrationState.of(v.getCalibration(), m), null, null,
                    versionFirst, lastSeq, version, now));
            for (Map.Entry<String, SegmentState> e : new TreeMap<>(state.getSegments()).entrySet()) {
                SegmentState segment = e.getValue();
                forward(m.id() + "|segment|" + e.getKey(), metrics(state, m, "segment", CalibrationState.of(segment.getRunning(), m), null,
                        null, 0, lastSeq, version, now).setSegment(e.getKey()));
                if (segment.getWindowCount() > 0) {
                    forward(m.id() + "|segment-window|" + e.getKey() + "|" + w.getIndex(), metrics(state, m, "segment-window",
                            CalibrationState.of(segment.getWindow(), m), start, end, first, lastSeq, version, now).setSegment(e.getKey()));
                }
            }
        }
        state.getSegments().values().forEach(segment -> {
            segment.setWindow(CalibrationState.empty());
            segment.setWindowCount(0);
        });
        v.setFirstOutcome(versionFirst);
        for (Method m : CalibratorTopology.METHODS) {
            detectors.window(v, m, windowEce.get(m)).forEach(f -> drift(f, lastSeq, now));
        }
        state.setWindow(emptyWindow(w.getIndex() + 1));
    }

    /** One scope's metrics, to publish. */
    private static CalibrationMetrics.Builder metrics(CalibratorState state, Method method, String scope, Calibration c, Instant start,
                                                      Instant end, long first, long last, long version, long now) {
        CalibrationScores m = c.metrics();
        List<ReliabilityBin> bins = new ArrayList<>();
        for (CalibrationScores.ReliabilityBin b : m.bins()) {
            bins.add(ReliabilityBin.newBuilder().setLower(b.lower()).setUpper(b.upper())
                    .setCount(b.count()).setMeanConfidence(Double.isNaN(b.meanConfidence()) ? null : b.meanConfidence())
                    .setAccuracy(Double.isNaN(b.accuracy()) ? null : b.accuracy()).build());
        }
        return CalibrationMetrics.newBuilder()
                .setMethod(method.id()).setScope(scope).setWindowStart(start).setWindowEnd(end)
                .setFirstOutcome(first).setLastOutcome(last).setPosteriorVersion(version)
                .setN(m.n()).setAccuracy(m.accuracy()).setEce(m.ece()).setNll(m.nll()).setBrier(m.brier())
                .setMeanConfidenceMinusAccuracy(m.meanConfidenceMinusAccuracy()).setBins(bins)
                .setLabelsMissing(state.getLabelsMissing()).setLabelsLate(state.getLabelsLate())
                .setEmittedAt(Instant.ofEpochMilli(now));
    }

    private void forward(String key, CalibrationMetrics.Builder metrics) {
        if (replaying) {
            return;
        }
        CalibrationMetrics out = metrics.build();
        context().forward(new Record<>(key, (Object) out, out.getEmittedAt().toEpochMilli()));
    }

    private void drift(DriftDetectors.Fired f, long seq, long now) {
        if (replaying) {
            return;
        }
        DriftEvent d = DriftEvent.newBuilder().setDetector(f.detector().id()).setMethod(f.method().id()).setStatistic(f.statistic())
                .setThreshold(f.threshold()).setAtOutcome(seq).setPosteriorVersion(f.version()).setKind(f.detector().kind())
                .setAtQuestion(f.atQuestion()).setDetectedAt(Instant.ofEpochMilli(now)).build();
        context().forward(new Record<>(f.detector().id(), (Object) d, now));
    }
}
