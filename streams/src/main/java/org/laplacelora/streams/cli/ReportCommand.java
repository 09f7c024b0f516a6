package org.laplacelora.streams.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.laplacelora.model.laplace.predictive.Method;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "report")
final class ReportCommand extends AppCommand {
    @Parameters(arity = "1..*", paramLabel = "EVAL_JSON", descriptionKey = "report.files") List<Path> files;
    @Option(names = "--title", paramLabel = "TEXT") String title;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = out();
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> runs = new ArrayList<>();
        for (Path f : files) {
            JsonNode n = json.readTree(f.toFile());
            if (!n.has("methods")) {
                throw new IllegalArgumentException(f + ": not an evaluate --json file (no \"methods\")");
            }
            runs.add(n);
        }
        if (title != null) {
            out.println(title);
            out.println();
        }
        out.printf("| method | ACC %% | ECE %% | NLL | Brier | conf − acc %% |%n|---|---:|---:|---:|---:|---:|%n");
        for (Method method : Method.values()) {
            row(out, method.title(), runs, "methods", method.id());
        }
        // The ablations, when every run tuned them (evaluate --val).
        if (runs.stream().allMatch(r -> r.has("ablations"))) {
            row(out, "Temperature, uncapped", runs, "ablations", "temperature_uncapped");
            row(out, "Prior only (Σ = I/λ)", runs, "ablations", "prior_only");
        }
        out.printf("%n%d run(s), n = %d test questions each.%n", runs.size(), runs.get(0).get("methods").get("map").get("n").asInt());
        if (runs.stream().allMatch(r -> r.has("ood"))) {
            out.printf("%nOut-of-distribution detection against the in-domain test set (AUROC; 0.5 = no better than chance):%n%n"
                    + "| score | AUROC |%n|---|---:|%n");
            for (java.util.Iterator<String> it = runs.get(0).get("ood").get("auroc").fieldNames(); it.hasNext(); ) {
                String score = it.next();
                out.printf("| %s | %s |%n", OutOfDistribution.title(score), stat(runs.stream().map(r -> r.get("ood")).toList(), "auroc", score,
                        null, 1, 3));
            }
        }
        out.printf("%n| run | adapter seed | convention | λ | τ | T | T uncapped | prior-only λ |%n|---|---:|---|---:|---:|---:|---:|---:|%n");
        for (int i = 0; i < runs.size(); i++) {
            JsonNode st = runs.get(i).get("settings");
            JsonNode ab = runs.get(i).path("ablations");
            out.printf("| %s | %s | %s | %s | %s | %s | %s | %s |%n", run(files.get(i)), st.path("adapter_seed").asText("?"),
                    st.path("convention").asText("?"), number(st.get("lambda"), st.get("lambda_at_boundary"), "edge of range"),
                    number(st.get("tau"), null, null), number(st.get("temperature"), st.get("temperature_at_cap"), "cap"),
                    number(ab.path("temperature_uncapped").get("temperature"), ab.path("temperature_uncapped").get("temperature_at_search_end"),
                            "end of search"),
                    number(ab.path("prior_only").get("lambda"), ab.path("prior_only").get("lambda_at_boundary"), "edge of range"));
        }
        return 0;
    }

    private static void row(PrintWriter out, String title, List<JsonNode> runs, String group, String id) {
        out.printf("| %s | %s | %s | %s | %s | %s |%n", title, stat(runs, group, id, "accuracy", 100, 1), stat(runs, group, id, "ece", 100, 1),
                stat(runs, group, id, "nll", 1, 3), stat(runs, group, id, "brier", 1, 3),
                stat(runs, group, id, "mean_confidence_minus_accuracy", 100, 1));
    }

    /** A run by its file and the directory it is in: one directory per seed is the usual layout. */
    private static String run(Path file) {
        Path parent = file.toAbsolutePath().normalize().getParent();
        return (parent == null || parent.getFileName() == null ? "" : parent.getFileName() + "/") + file.getFileName();
    }

    /** A setting, "—" when the run did not record it, flagged when it sits where its search stops. */
    private static String number(JsonNode value, JsonNode flag, String where) {
        if (value == null || value.isNull() || value.isMissingNode()) {
            return "—";
        }
        return String.format("%.3g", value.asDouble()) + (flag != null && flag.asBoolean(false) ? " (" + where + ")" : "");
    }

    /** Mean ± standard error over the runs of {@code group.id.field} ({@code group.id} when field is null). */
    private static String stat(List<JsonNode> runs, String group, String id, String field, double scale, int digits) {
        double[] v = runs.stream().mapToDouble(r -> scale * (field == null ? r.get(group).get(id) : r.get(group).get(id).get(field)).asDouble())
                .toArray();
        double mean = 0;
        for (double x : v) {
            mean += x / v.length;
        }
        if (v.length == 1) {
            return String.format("%." + digits + "f", mean);
        }
        double var = 0;
        for (double x : v) {
            var += (x - mean) * (x - mean) / (v.length - 1);
        }
        return String.format("%." + digits + "f ± %." + digits + "f", mean, Math.sqrt(var / v.length));
    }
}
