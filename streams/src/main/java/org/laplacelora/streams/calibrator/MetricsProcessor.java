package org.laplacelora.streams.calibrator;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.laplacelora.model.metrics.Calibration;
import org.laplacelora.model.metrics.CalibrationMetrics.ReliabilityBin;
import org.laplacelora.schemas.avro.CalibrationMetrics;
import org.laplacelora.schemas.avro.CalibratorEvent;
import org.laplacelora.schemas.avro.DriftEvent;
import org.laplacelora.schemas.avro.LabelledOutcome;
import org.laplacelora.schemas.avro.Prediction;

/**
 * One task (all outcomes come through a single partition) that numbers the labelled outcomes, keeps
 * running, per-posterior-version and tumbling-window calibration of the three methods side by side, and
 * watches for drift. All of it lives in a changelogged store, so it survives restarts.
 */
final class MetricsProcessor implements Processor<String, CalibratorEvent, String, Object> {
    static final List<String> METHODS = List.of("laplace", "temperature", "map");

    private final CalibratorSettings s;
    private ProcessorContext<String, Object> context;
    private KeyValueStore<String, byte[]> state;

    MetricsProcessor(CalibratorSettings settings) {
        this.s = settings;
    }

    @Override
    public void init(ProcessorContext<String, Object> ctx) {
        this.context = ctx;
        this.state = ctx.getStateStore(CalibratorTopology.STATE_STORE);
    }

    @Override
    public void process(Record<String, CalibratorEvent> r) {
        CalibratorEvent ev = r.value();
        switch (ev.getKind()) {
            case "label_missing" -> putLong("missing", getLong("missing", 0) + 1);
            case "label_late" -> putLong("late", getLong("late", 0) + 1);
            case "outcome" -> outcome(ev.getOutcome());
            default -> { }
        }
    }

    private void outcome(LabelledOutcome o) {
        long now = context.currentSystemTimeMs();
        long seq = getLong("seq", 0);
        putLong("seq", seq + 1);
        o.setSequence(seq);
        context.forward(new Record<>(o.getPrediction().getQuestionId(), (Object) o, now));
        Prediction p = o.getPrediction();
        long version = p.getPosteriorVersion();
        long windowSeq = getLong("window|count", 0);
        if (windowSeq == 0) {
            putLong("window|first", seq);
            putLong("window|start", p.getScoredAt().toEpochMilli());
        }
        putLong("window|end", Math.max(getLong("window|end", 0), p.getScoredAt().toEpochMilli()));
        for (String m : METHODS) {
            double[] probabilities = probabilities(p, m);
            update("running|" + m, probabilities, o.getLabel());
            update("version|" + m + "|" + version, probabilities, o.getLabel());
            update("window|" + m, probabilities, o.getLabel());
        }
        putLong("version|current", version);
        double nll = -Math.log(Math.max(probabilities(p, s.driftMethod())[o.getLabel()], 1e-12));
        PageHinkley ph = PageHinkley.decode(state.get("ph|" + s.driftMethod()));
        double fired = ph.add(nll, s.phDelta(), s.phThreshold(), s.phMinOutcomes());
        state.put("ph|" + s.driftMethod(), ph.encode());
        if (!Double.isNaN(fired)) {
            drift("page-hinkley", fired, s.phThreshold(), seq, version, now);
        }
        putLong("window|count", windowSeq + 1);
        if (windowSeq + 1 >= s.windowSize()) {
            closeWindow(seq, version, now);
        }
    }

    private void closeWindow(long lastSeq, long version, long now) {
        long first = getLong("window|first", 0);
        Instant start = Instant.ofEpochMilli(getLong("window|start", 0));
        Instant end = Instant.ofEpochMilli(getLong("window|end", 0));
        long index = getLong("window|index", 0);
        double ece = get("window|" + s.driftMethod()).metrics().ece();
        for (String m : METHODS) {
            Calibration window = get("window|" + m);
            emit(m, "window", m + "|window|" + index, window, start, end, first, lastSeq, version, now);
            emit(m, "running", m + "|running", get("running|" + m), null, null, 0, lastSeq, version, now);
            emit(m, "version", m + "|version|" + version, get("version|" + m + "|" + version), null, null,
                    getLong("version-first|" + version, first), lastSeq, version, now);
            state.delete("window|" + m);
        }
        state.putIfAbsent("version-first|" + version, bytes(first));
        // Windowed ECE against the reference window: the first complete window of this posterior version.
        String refKey = "ece-reference|" + version;
        byte[] ref = state.get(refKey);
        if (ref == null) {
            state.put(refKey, ByteBuffer.allocate(8).putDouble(ece).array());
        } else if (ece - ByteBuffer.wrap(ref).getDouble() > s.eceRise()) {
            drift("ece-window", ece, ByteBuffer.wrap(ref).getDouble() + s.eceRise(), lastSeq, version, now);
        }
        putLong("window|index", index + 1);
        putLong("window|count", 0);
        putLong("window|end", 0);
    }

    private void emit(String method, String scope, String key, Calibration c, Instant start, Instant end, long first,
                      long last, long version, long now) {
        org.laplacelora.model.metrics.CalibrationMetrics m = c.metrics();
        List<org.laplacelora.schemas.avro.ReliabilityBin> bins = new ArrayList<>();
        for (ReliabilityBin b : m.bins()) {
            bins.add(org.laplacelora.schemas.avro.ReliabilityBin.newBuilder().setLower(b.lower()).setUpper(b.upper())
                    .setCount(b.count()).setMeanConfidence(Double.isNaN(b.meanConfidence()) ? null : b.meanConfidence())
                    .setAccuracy(Double.isNaN(b.accuracy()) ? null : b.accuracy()).build());
        }
        CalibrationMetrics out = CalibrationMetrics.newBuilder()
                .setMethod(method).setScope(scope).setWindowStart(start).setWindowEnd(end)
                .setFirstOutcome(first).setLastOutcome(last).setPosteriorVersion(version)
                .setN(m.n()).setAccuracy(m.accuracy()).setEce(m.ece()).setNll(m.nll()).setBrier(m.brier())
                .setMeanConfidenceMinusAccuracy(m.meanConfidenceMinusAccuracy()).setBins(bins)
                .setLabelsMissing(getLong("missing", 0)).setLabelsLate(getLong("late", 0))
                .setEmittedAt(Instant.ofEpochMilli(now)).build();
        context.forward(new Record<>(key, (Object) out, now));
    }

    private void drift(String detector, double statistic, double threshold, long seq, long version, long now) {
        DriftEvent d = DriftEvent.newBuilder().setDetector(detector).setMethod(s.driftMethod()).setStatistic(statistic)
                .setThreshold(threshold).setAtOutcome(seq).setPosteriorVersion(version)
                .setDetectedAt(Instant.ofEpochMilli(now)).build();
        context.forward(new Record<>(detector, (Object) d, now));
    }

    static double[] probabilities(Prediction p, String method) {
        List<Double> v = switch (method) {
            case "laplace" -> p.getLaplace();
            case "temperature" -> p.getTemperature();
            case "map" -> p.getMap();
            default -> throw new IllegalArgumentException("unknown method " + method);
        };
        double[] out = new double[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = v.get(i);
        }
        return out;
    }

    private void update(String key, double[] probabilities, int label) {
        Calibration c = get(key);
        c.add(probabilities, label);
        ByteBuffer b = ByteBuffer.allocate(8 * c.toArray().length);
        for (double x : c.toArray()) {
            b.putDouble(x);
        }
        state.put(key, b.array());
    }

    private Calibration get(String key) {
        byte[] b = state.get(key);
        if (b == null) {
            return new Calibration();
        }
        double[] a = new double[b.length / 8];
        ByteBuffer.wrap(b).asDoubleBuffer().get(a);
        return Calibration.fromArray(a);
    }

    private long getLong(String key, long fallback) {
        byte[] b = state.get(key);
        return b == null ? fallback : ByteBuffer.wrap(b).getLong();
    }

    private void putLong(String key, long v) {
        state.put(key, bytes(v));
    }

    private static byte[] bytes(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }
}
