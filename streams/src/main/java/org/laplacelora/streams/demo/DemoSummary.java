package org.laplacelora.streams.demo;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.laplacelora.streams.calibrator.Detector;

/**
 * What the demo writes with --summary-json (scripts and dashboards read it). Fractions and nats. Windows
 * are the calibrator's tumbling windows of labelled outcomes, located by the questions they hold.
 */
public final class DemoSummary {
    /** @param confidence mean top-1 confidence (NaN where not known): above accuracy is overconfident */
    public record MethodMetrics(double accuracy, double ece, double nll, double confidence) {}

    public record Window(long startQuestion, long endQuestion, long n, MethodMetrics laplace, MethodMetrics temperature,
                         MethodMetrics map, long posteriorVersion) {}

    public record Drift(long atQuestion, String detector, String method, String kind) {}

    /**
     * A stretch of the stream, with every method's metrics pooled over its labelled outcomes.
     *
     * @param kind before_drift, drift_to_swap or after_swap
     * @param endQuestion the last question in it
     */
    public record PooledPhase(String kind, long startQuestion, long endQuestion, long n, MethodMetrics laplace, MethodMetrics temperature,
                              MethodMetrics map) {}

    public record Version(long version, long firstUsedAtQuestion) {}

    public record Refit(long version, boolean accepted, String trigger, String reason, double seconds, double heldOutNllBefore,
                        double heldOutNllAfter, String mode, Double forgetting) {}

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
    /** Records on the demo's topics of someone else's making (a question produced by hand, bytes that are not Avro): apart from its accounting. */
    public long foreignRecords;
    public List<Integer> shifts = List.of();
    public List<Window> windows = new ArrayList<>();
    public List<Drift> driftEvents = new ArrayList<>();
    public List<Version> posteriorVersions = new ArrayList<>();
    public List<Refit> refits = new ArrayList<>();
    public long posteriorSwaps;
    public long posteriorRejections;
    public double secondsToFirstPrediction;
    public double seconds;
    public Map<String, Object> model = new LinkedHashMap<>();
    public List<PooledPhase> phases = new ArrayList<>();

    /** The first shift (the one refit_on_drift describes), or −1. */
    public long driftAt() {
        return shifts.isEmpty() ? -1 : shifts.get(0);
    }

    /**
     * The phase boundaries: every shift point, and the first swap after each (a version first used before the next
     * shift); other swaps do not start a phase. In order, as (question, kind of the phase that starts there).
     */
    public List<Map.Entry<Long, String>> phaseStarts(long questions) {
        List<Map.Entry<Long, String>> starts = new ArrayList<>();
        starts.add(Map.entry(0L, "before_drift"));
        for (int k = 0; k < shifts.size(); k++) {
            long shift = shifts.get(k);
            long next = k + 1 < shifts.size() ? shifts.get(k + 1) : questions;
            if (shift >= questions) {
                break;
            }
            starts.add(Map.entry(shift, "drift_to_swap"));
            posteriorVersions.stream().filter(v -> v.version() > 0 && v.firstUsedAtQuestion() >= shift && v.firstUsedAtQuestion() < next)
                    .mapToLong(Version::firstUsedAtQuestion).min().ifPresent(swap -> starts.add(Map.entry(swap, "after_swap")));
        }
        return starts;
    }

    /** The question from which the first version published after the first shift served, before the next (-1: none). */
    public long swapQuestion() {
        long next = shifts.size() > 1 ? shifts.get(1) : Long.MAX_VALUE;
        return posteriorVersions.stream().filter(v -> v.version() > 0 && v.firstUsedAtQuestion() >= driftAt()
                        && v.firstUsedAtQuestion() < next).mapToLong(Version::firstUsedAtQuestion).min().orElse(-1);
    }

    /** Windows wholly before the first shift. */
    public Phase beforeDrift() {
        long drift = driftAt() < 0 ? Long.MAX_VALUE : driftAt();
        return Phase.of(windows.stream().filter(w -> w.endQuestion() < drift).toList());
    }

    /** Windows wholly after the first shift and before its swap (all of them up to the next shift when there was no swap). */
    public Phase driftToSwap() {
        long swap = swapQuestion();
        long end = swap >= 0 ? swap : shifts.size() > 1 ? shifts.get(1) : Long.MAX_VALUE;
        return Phase.of(driftAt() < 0 ? List.of()
                : windows.stream().filter(w -> w.startQuestion() >= driftAt() && w.endQuestion() < end).toList());
    }

    /** Windows wholly after the first shift's swap and before the next shift. */
    public Phase afterSwap() {
        long swap = swapQuestion();
        long next = shifts.size() > 1 ? shifts.get(1) : Long.MAX_VALUE;
        return Phase.of(swap < 0 ? List.of() : windows.stream().filter(w -> w.startQuestion() >= swap && w.endQuestion() < next).toList());
    }

    /** The JSON object, with the key names the issue fixed. */
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("questions_published", questionsPublished);
        m.put("predictions", predictions);
        m.put("duplicate_predictions", duplicatePredictions);
        m.put("dead_letters", deadLetters);
        m.put("dead_letter_reasons", deadLetterReasons);
        m.put("foreign_records", foreignRecords);
        m.put("drift_at", driftAt());
        m.put("shifts", shifts);
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
        m.put("drift_events", driftEvents.stream().map(d -> Map.of("at_question", d.atQuestion(), "detector", d.detector(),
                "method", d.method(), "kind", d.kind())).toList());
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
            x.put("mode", r.mode());
            x.put("forgetting", r.forgetting());
            return x;
        }).toList());
        m.put("posterior_swaps", posteriorSwaps);
        m.put("posterior_rejections", posteriorRejections);
        long swap = swapQuestion();
        Phase drifted = driftToSwap();
        Phase swapped = afterSwap();
        Map<String, Object> refit = new LinkedHashMap<>();
        refit.put("drift_events_after_drift", driftAt() < 0 ? 0 : driftEvents.stream().filter(d -> d.atQuestion() >= driftAt()).count());
        refit.put("new_versions_after_drift", driftAt() < 0 ? 0
                : posteriorVersions.stream().filter(v -> v.version() > 0 && v.firstUsedAtQuestion() >= driftAt()).count());
        refit.put("swap_at_question", swap);
        refit.put("before_drift", phase(beforeDrift()));
        refit.put("drift_to_swap", phase(drifted));
        refit.put("after_swap", phase(swapped));
        refit.put("laplace_ece_lower_after_swap", swapped.windows() > 0 && drifted.windows() > 0 && swapped.laplaceEce() < drifted.laplaceEce());
        m.put("refit_on_drift", refit);
        m.put("phases", phases.stream().map(p -> {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("kind", p.kind());
            x.put("start_question", p.startQuestion());
            x.put("end_question", p.endQuestion());
            x.put("n", p.n());
            x.put("laplace", metrics(p.laplace()));
            x.put("temperature", metrics(p.temperature()));
            x.put("map", metrics(p.map()));
            return x;
        }).toList());
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
        m.put("accuracy", finite(x.accuracy()));
        m.put("ece", finite(x.ece()));
        m.put("nll", finite(x.nll()));
        if (Double.isFinite(x.confidence())) {
            m.put("confidence", x.confidence());
        }
        return m;
    }


    /** A drift event as the console names it: "page-hinkley (laplace)", "entropy-rise (laplace, label-free)". */
    public static String describe(String detector, String method, String kind) {
        return detector + " (" + method + (Detector.LABEL_FREE.equals(kind) ? ", " + Detector.LABEL_FREE : "") + ")";
    }
}
