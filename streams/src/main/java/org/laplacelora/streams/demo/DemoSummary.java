package org.laplacelora.streams.demo;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the demo writes with --summary-json (scripts and dashboards read it). Fractions and nats. Windows
 * are the calibrator's tumbling windows of labelled outcomes, located by the questions they hold.
 */
public final class DemoSummary {
    public record MethodMetrics(double accuracy, double ece, double nll) {}

    public record Window(long startQuestion, long endQuestion, long n, MethodMetrics laplace, MethodMetrics temperature,
                         MethodMetrics map, long posteriorVersion) {}

    public record Drift(long atQuestion, String detector) {}

    public record Version(long version, long firstUsedAtQuestion) {}

    public long questionsPublished;
    public long predictions;
    public long duplicatePredictions;
    public long deadLetters;
    public Map<String, Long> deadLetterReasons = new LinkedHashMap<>();
    public long driftAt;
    public List<Window> windows = new ArrayList<>();
    public List<Drift> driftEvents = new ArrayList<>();
    public List<Version> posteriorVersions = new ArrayList<>();
    public double secondsToFirstPrediction;
    public double seconds;
    public Map<String, Object> model = new LinkedHashMap<>();

    /** The JSON object, with the key names the issue fixed. */
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("questions_published", questionsPublished);
        m.put("predictions", predictions);
        m.put("duplicate_predictions", duplicatePredictions);
        m.put("dead_letters", deadLetters);
        m.put("dead_letter_reasons", deadLetterReasons);
        m.put("drift_at", driftAt);
        List<Object> w = new ArrayList<>();
        for (Window x : windows) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("start_question", x.startQuestion());
            row.put("end_question", x.endQuestion());
            row.put("n", x.n());
            row.put("laplace", metrics(x.laplace()));
            row.put("temperature", metrics(x.temperature()));
            row.put("map", metrics(x.map()));
            row.put("posterior_version", x.posteriorVersion());
            w.add(row);
        }
        m.put("windows", w);
        m.put("drift_events", driftEvents.stream().map(d -> Map.of("at_question", d.atQuestion(), "detector", d.detector())).toList());
        m.put("posterior_versions", posteriorVersions.stream()
                .map(v -> Map.of("version", v.version(), "first_used_at_question", v.firstUsedAtQuestion())).toList());
        m.put("seconds_to_first_prediction", secondsToFirstPrediction);
        m.put("seconds", seconds);
        m.put("model", model);
        return m;
    }

    private static Map<String, Object> metrics(MethodMetrics x) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("accuracy", x.accuracy());
        m.put("ece", x.ece());
        m.put("nll", x.nll());
        return m;
    }
}
