package org.laplacelora.streams.calibrator;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToDoubleFunction;
import org.laplacelora.schemas.avro.CalibrationMetrics;
import org.laplacelora.schemas.avro.DriftEvent;
import org.laplacelora.streams.telemetry.Telemetry;

/**
 * The calibrator's outputs as Prometheus meters: the latest calibration per method, scope (running, window,
 * version) and segment ("all" for the global numbers), the estimated accuracy of what awaits its label, and
 * drift events counted by detector.
 */
final class CalibratorMeters {
    /** The latest record per method, scope and segment; each gauge reads one field of it. */
    private static final Map<List<String>, CalibrationMetrics> LATEST = new ConcurrentHashMap<>();
    private static final Map<String, Double> ESTIMATED = new ConcurrentHashMap<>();
    private static final AtomicLong OPEN = new AtomicLong();
    private static final AtomicLong MISSING = new AtomicLong();
    private static final AtomicLong LATE = new AtomicLong();
    private static final String ALL = "all";

    static {
        gauge("open_predictions", OPEN, "Predictions waiting for their label");
        gauge("labels_missing", MISSING, "Predictions whose label did not come within the horizon (since the calibrator started counting)");
        gauge("labels_late", LATE, "Labels that came after the horizon");
    }

    private CalibratorMeters() {}

    static void record(CalibrationMetrics m) {
        String scope = switch (m.getScope()) {
            case "segment" -> "running";
            case "segment-window" -> "window";
            default -> m.getScope();
        };
        List<String> key = List.of(m.getMethod(), scope, m.getSegment() == null ? ALL : m.getSegment());
        if (LATEST.put(key, m) == null) {
            calibration(key, "ece", "Expected calibration error, 10 bins (fraction)", CalibrationMetrics::getEce);
            calibration(key, "nll", "Mean negative log-likelihood (nats)", CalibrationMetrics::getNll);
            calibration(key, "accuracy", "Fraction correct", CalibrationMetrics::getAccuracy);
            calibration(key, "brier", "Mean multiclass Brier score", CalibrationMetrics::getBrier);
            calibration(key, "outcomes", "Labelled outcomes counted", CalibrationMetrics::getN);
        }
        if ("window".equals(m.getScope())) {
            OPEN.set(m.getOpenPredictions() == null ? 0 : m.getOpenPredictions());
            MISSING.set(m.getLabelsMissing());
            LATE.set(m.getLabelsLate());
            if (ESTIMATED.put(m.getMethod(), m.getEstimatedAccuracy() == null ? Double.NaN : m.getEstimatedAccuracy()) == null) {
                Gauge.builder(Telemetry.PREFIX + "estimated_accuracy", ESTIMATED, e -> e.getOrDefault(m.getMethod(), Double.NaN))
                        .tag("method", m.getMethod()).description("Mean top-1 confidence of the predictions awaiting their label")
                        .register(Telemetry.registry());
            }
        }
    }

    static void record(DriftEvent d) {
        Counter.builder(Telemetry.PREFIX + "drift_events").description("Drift events by detector")
                .tag("detector", d.getDetector()).tag("kind", d.getKind() == null ? "label" : d.getKind()).tag("method", d.getMethod())
                .register(Telemetry.registry()).increment();
    }

    private static void calibration(List<String> key, String name, String description, ToDoubleFunction<CalibrationMetrics> field) {
        Gauge.builder(Telemetry.PREFIX + "calibration_" + name, LATEST, l -> field.applyAsDouble(l.get(key)))
                .tags("method", key.get(0), "scope", key.get(1), "segment", key.get(2)).description(description)
                .register(Telemetry.registry());
    }

    private static void gauge(String name, AtomicLong value, String description) {
        Gauge.builder(Telemetry.PREFIX + name, value, AtomicLong::get).description(description).register(Telemetry.registry());
    }
}
