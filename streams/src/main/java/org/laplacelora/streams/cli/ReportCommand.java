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
            out.printf("| %s | %s | %s | %s | %s | %s |%n", method.title(),
                    stat(runs, method, "accuracy", 100, 1), stat(runs, method, "ece", 100, 1), stat(runs, method, "nll", 1, 3),
                    stat(runs, method, "brier", 1, 3), stat(runs, method, "mean_confidence_minus_accuracy", 100, 1));
        }
        out.printf("%n%d run(s), n = %d test questions each.%n", runs.size(), runs.get(0).get("methods").get("map").get("n").asInt());
        return 0;
    }

    private static String stat(List<JsonNode> runs, Method method, String field, double scale, int digits) {
        double[] v = runs.stream().mapToDouble(r -> scale * r.get("methods").get(method.id()).get(field).asDouble()).toArray();
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
