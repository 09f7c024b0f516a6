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

    public record Refit(long version, boolean accepted, String trigger, String reason, double seconds, double heldOutNllBefore,
                        double heldOutNllAfter) {}

    /** Mean ECE of each method over a set of windows. */
    public record Phase(int windows, double laplaceEce, double temperatureEce, double mapEce, double laplaceAccuracy) {
        static Phase of(List<Window> w) {
            return new Phase(w.size(), mean(w, x -> x.laplace().ece()), mean(w, x -> x.temperature().ece()), mean(w, x -> x.map().ece()),
                    mean(w, x -> x.laplace().accuracy()));
        }

        private static double mean(List<Window> w, java.util.function.ToDoubleFunction<Window> f) {
            return w.stream().mapToDouble(f).average().orElse(Double.NaN);
        }
    }

    public long questionsPublished;
    public long predictions;
    public long duplicatePredictions;
    public long deadLetters;
    public Map<String, Long> deadLetterReasons = new LinkedHashMap<>();
    public long driftAt;
    public List<Window> windows = new ArrayList<>();
    public List<Drift> driftEvents = new ArrayList<>();
    public List<Version> posteriorVersions = new ArrayList<>();
    public List<Refit> refits = new ArrayList<>();
    public long posteriorSwaps;
    public long posteriorRejections;
    public double secondsToFirstPrediction;
    public double seconds;
    public Map<String, Object> model = new LinkedHashMap<>();

    /** The question from which the first version published after the drift served (-1: none). */
    public long swapQuestion() {
        return posteriorVersions.stream().filter(v -> v.version() > 0 && v.firstUsedAtQuestion() >= driftAt)
                .mapToLong(Version::firstUsedAtQuestion).min().orElse(-1);
    }

    /** Windows wholly before the drift. */
    public Phase beforeDrift() {
        return Phase.of(windows.stream().filter(w -> w.endQuestion() < driftAt).toList());
    }

    /** Windows wholly after the drift and before the swap (all of them after the drift when there was no swap). */
    public Phase driftToSwap() {
        long swap = swapQuestion();
        return Phase.of(windows.stream().filter(w -> w.startQuestion() >= driftAt && (swap < 0 || w.endQuestion() < swap)).toList());
    }

    /** Windows wholly after the swap. */
    public Phase afterSwap() {
        long swap = swapQuestion();
        return Phase.of(swap < 0 ? List.of() : windows.stream().filter(w -> w.startQuestion() >= swap).toList());
    }

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
        m.put("refits", refits.stream().map(r -> {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("version", r.version());
            x.put("accepted", r.accepted());
            x.put("trigger", r.trigger());
            x.put("reason", r.reason());
            x.put("seconds", r.seconds());
            x.put("held_out_nll_before", finite(r.heldOutNllBefore()));
            x.put("held_out_nll_after", finite(r.heldOutNllAfter()));
            return x;
        }).toList());
        m.put("posterior_swaps", posteriorSwaps);
        m.put("posterior_rejections", posteriorRejections);
        long swap = swapQuestion();
        Phase drifted = driftToSwap();
        Phase swapped = afterSwap();
        Map<String, Object> refit = new LinkedHashMap<>();
        refit.put("drift_events_after_drift", driftEvents.stream().filter(d -> d.atQuestion() >= driftAt).count());
        refit.put("new_versions_after_drift", posteriorVersions.stream().filter(v -> v.version() > 0 && v.firstUsedAtQuestion() >= driftAt).count());
        refit.put("swap_at_question", swap);
        refit.put("before_drift", phase(beforeDrift()));
        refit.put("drift_to_swap", phase(drifted));
        refit.put("after_swap", phase(swapped));
        refit.put("laplace_ece_lower_after_swap", swapped.windows() > 0 && drifted.windows() > 0 && swapped.laplaceEce() < drifted.laplaceEce());
        m.put("refit_on_drift", refit);
        m.put("seconds_to_first_prediction", secondsToFirstPrediction);
        m.put("seconds", seconds);
        m.put("model", model);
        return m;
    }

    private static Map<String, Object> phase(Phase p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("windows", p.windows());
        m.put("laplace_ece", finite(p.laplaceEce()));
        m.put("temperature_ece", finite(p.temperatureEce()));
        m.put("map_ece", finite(p.mapEce()));
        m.put("laplace_accuracy", finite(p.laplaceAccuracy()));
        return m;
    }

    private static Double finite(double x) {
        return Double.isFinite(x) ? x : null;
    }

    private static Map<String, Object> metrics(MethodMetrics x) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("accuracy", x.accuracy());
        m.put("ece", x.ece());
        m.put("nll", x.nll());
        return m;
    }
}
