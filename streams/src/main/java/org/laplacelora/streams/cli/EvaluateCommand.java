package org.laplacelora.streams.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import me.tongfei.progressbar.ProgressBar;
import org.laplacelora.model.core.Categorical;
import org.laplacelora.model.laplace.fit.PriorTuning;
import org.laplacelora.model.laplace.fit.ValidationSet;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.laplace.predictive.LaplacePredictor;
import org.laplacelora.model.laplace.predictive.LinearisedPredictive;
import org.laplacelora.model.laplace.predictive.Links;
import org.laplacelora.model.laplace.predictive.Method;
import org.laplacelora.model.laplace.predictive.ScoredExample;
import org.laplacelora.model.metrics.Calibration;
import org.laplacelora.model.metrics.CalibrationScores;
import org.laplacelora.model.tasks.EncodedExample;
import org.laplacelora.model.tasks.Task;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "evaluate")
final class EvaluateCommand extends AppCommand {
    @Mixin PosteriorOptions posteriorOptions;
    @Mixin TaskOptions taskOptions;
    @Option(names = "--test", required = true, paramLabel = "FILE") Path test;
    @Option(names = "--val", paramLabel = "FILE") Path val;
    @Option(names = "--json", paramLabel = "OUT") Path json;
    @Option(names = "--predictions-out", paramLabel = "FILE.jsonl") Path predictionsOut;
    @Option(names = "--in-domain", paramLabel = "FILE.jsonl") Path inDomain;
    @Option(names = "--prior-precision", paramLabel = "X") Double priorPrecision;
    @Mixin LinkOptions link = new LinkOptions(Links.EVALUATION_SAMPLES);
    @Mixin BatchSizeOption batch = new BatchSizeOption(8);
    @Mixin SeedOption seed = new SeedOption(0);

    /**
     * What --val tuned, with the numbers behind each row: the two Laplace methods' λ (flagged on the edge of the
     * search), the temperature (flagged on its cap), and the two ablations' own fits.
     */
    private record Tuning(PriorTuning.Tuned laplace, PriorTuning.Tuned lastLayer, PriorTuning.Temperature temperature,
                          PriorTuning.Tuned priorOnly, PriorTuning.Temperature uncapped) {}

    /** The ablations' calibration on the test file: temperature scaling without its cap, and the prior alone. */
    private record Ablations(Calibration uncapped, Calibration priorOnly) {}

    @Override
    public Integer call() throws Exception {
        PrintWriter err = err();
        PrintWriter out = out();
        LaplacePosterior posterior = posteriorOptions.load();
        LinearisedPredictive predictive = link.predictive(seed.seed).forPosterior(posterior);
        try (AdaptedModelOptions.Adapted m = posteriorOptions.adapted.load()) {
            Task task = taskOptions.bind(m.model());
            new LaplacePredictor(m.model().llama(), m.adapter(), posterior, predictive).requireAnswers(task.answerIds());
            Tuning tuning = null;
            if (val != null) {
                tuning = retune(posterior, m, task, predictive, taskOptions.read(val, task, m.model(), err));
                posterior = posterior.withPrior(tuning.laplace().prior()).withLastLayerPrior(tuning.lastLayer().prior())
                        .withTemperature(tuning.temperature().value());
            }
            if (priorPrecision != null) {
                posterior = posterior.withPrior(posterior.prior().withLambda(priorPrecision));
            }
            LaplacePredictor predictor = new LaplacePredictor(m.model().llama(), m.adapter(), posterior, predictive);
            if (tuning != null) {
                predictor = predictor.withPriorOnly(tuning.priorOnly().prior());
            }
            List<EncodedExample> testSet = taskOptions.read(test, task, m.model(), err);
            Map<Method, Calibration> calibration = new EnumMap<>(Method.class);
            for (Method k : Method.values()) {
                calibration.put(k, new Calibration());
            }
            Ablations ablations = tuning == null ? null : new Ablations(new Calibration(), new Calibration());
            List<ScoredExample> all = new ArrayList<>();
            try (ProgressBar bar = Progress.bar("evaluate", testSet.size(), "questions")) {
                for (int i = 0; i < testSet.size(); i += batch.batchSize) {
                    List<EncodedExample> b = testSet.subList(i, Math.min(i + batch.batchSize, testSet.size()));
                    for (ScoredExample p : predictor.predict(b, m.padId(), m.manager())) {
                        all.add(p);
                        if (p.label() >= 0) {
                            calibration.forEach((method, c) -> c.add(p.probabilities(method), p.label()));
                            if (ablations != null) {
                                ablations.uncapped().add(Categorical.softmax(p.logitMean(), tuning.uncapped().value()), p.label());
                                ablations.priorOnly().add(p.priorOnly(), p.label());
                            }
                        }
                    }
                    bar.stepTo(Math.min(i + batch.batchSize, testSet.size()));
                }
            }
            printTable(out, calibration, ablations, tuning, posterior);
            Map<String, Double> auroc = inDomain == null ? null : OutOfDistribution.auroc(OutOfDistribution.read(inDomain), all);
            if (auroc != null) {
                out.printf("out-of-distribution detection, this file against %s (AUROC):%n", inDomain);
                auroc.forEach((score, a) -> out.printf("  %-34s %.3f%n", OutOfDistribution.title(score), a));
            }
            if (json != null) {
                writeJson(calibration, ablations, tuning, posterior, predictive, auroc);
            }
            if (predictionsOut != null) {
                writePredictions(all);
            }
        }
        return 0;
    }

    /**
     * λ of both Laplace methods for the link the evaluation uses, and the temperature, on the validation file; and
     * the ablations, tuned the same way on the same rows: the prior alone (τ = 0) and the temperature without its cap.
     */
    private Tuning retune(LaplacePosterior posterior, AdaptedModelOptions.Adapted m, Task task, LinearisedPredictive predictive,
                          List<EncodedExample> valSet) {
        ValidationSet v = ValidationSet.compute(m.model().llama(), m.adapter(), task.answerIds(), valSet, m.padId(), batch.batchSize,
                List.of(posterior), n -> {});
        LinearisedPredictive tuning = Links.forRetuning(predictive, task.numClasses(), seed.seed);
        double tau = posterior.prior().tau();
        return new Tuning(PriorTuning.byValidation(v, posterior, LaplacePosterior.ALL, tuning, new double[] {tau}),
                PriorTuning.byValidation(v, posterior, LaplacePosterior.HEAD, tuning, new double[] {1}),
                v.temperature(PriorTuning.TEMPERATURE_CAP),
                PriorTuning.byValidation(v, posterior, LaplacePosterior.ALL, tuning, new double[] {0}),
                v.temperature(PriorTuning.UNCAPPED_TEMPERATURE_END));
    }

    private void writeJson(Map<Method, Calibration> calibration, Ablations ablations, Tuning tuning, LaplacePosterior posterior,
                           LinearisedPredictive predictive, Map<String, Double> auroc) throws java.io.IOException {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = mapper.createObjectNode();
        ObjectNode methods = root.putObject("methods");
        calibration.forEach((k, c) -> scores(methods.putObject(k.id()), c));
        ObjectNode settings = root.putObject("settings");
        settings.put("link", predictive.link().forClasses(posterior.info().answers().size()).id());
        settings.put("link_chosen_on_validation", posterior.link());
        settings.put("samples", link.samples.samples);
        settings.put("seed", seed.seed);
        settings.put("convention", posterior.info().convention().id());
        settings.put("lambda", posterior.prior().lambda());
        settings.put("tau", posterior.prior().tau());
        settings.put("last_layer_lambda", posterior.lastLayerPrior().lambda());
        settings.put("temperature", posterior.temperature());
        settings.put("temperature_cap", PriorTuning.TEMPERATURE_CAP);
        settings.put("temperature_at_cap", PriorTuning.onCap(posterior.temperature(), PriorTuning.TEMPERATURE_CAP));
        if (tuning != null && priorPrecision == null) {
            settings.put("lambda_at_boundary", tuning.laplace().atBoundary());
        }
        if (tuning != null) {
            settings.put("last_layer_lambda_at_boundary", tuning.lastLayer().atBoundary());
        }
        if (ablations != null) {
            ObjectNode a = root.putObject("ablations");
            ObjectNode uncapped = scores(a.putObject("temperature_uncapped"), ablations.uncapped());
            uncapped.put("temperature", tuning.uncapped().value());
            uncapped.put("temperature_search_end", tuning.uncapped().cap());
            uncapped.put("temperature_at_search_end", tuning.uncapped().atCap());
            ObjectNode priorOnly = scores(a.putObject("prior_only"), ablations.priorOnly());
            priorOnly.put("lambda", tuning.priorOnly().prior().lambda());
            priorOnly.put("lambda_at_boundary", tuning.priorOnly().atBoundary());
        }
        if (auroc != null) {
            ObjectNode ood = root.putObject("ood");
            ood.put("in_domain", inDomain.toString());
            auroc.forEach(ood.putObject("auroc")::put);
        }
        // The seed that varies between a results table's runs is the adapter's (finetune --seed), not this command's.
        Path training = posteriorOptions.adapted.adapter.resolve("training.json");
        if (Files.isRegularFile(training)) {
            JsonNode trained = mapper.readTree(training.toFile());
            if (trained.has("seed")) {
                settings.put("adapter_seed", trained.get("seed").asLong());
            }
        }
        settings.put("adapter", posteriorOptions.adapted.adapter.toString());
        settings.put("posterior", posteriorOptions.posterior.toString());
        settings.put("test_file", test.toString());
        mapper.writeValue(json.toFile(), root);
    }

    private static ObjectNode scores(ObjectNode node, Calibration c) {
        CalibrationScores mt = c.metrics();
        node.put("accuracy", mt.accuracy());
        node.put("ece", mt.ece());
        node.put("nll", mt.nll());
        node.put("brier", mt.brier());
        node.put("n", mt.n());
        node.put("mean_confidence_minus_accuracy", mt.meanConfidenceMinusAccuracy());
        node.putPOJO("bins", mt.bins());
        return node;
    }

    private void writePredictions(List<ScoredExample> all) throws java.io.IOException {
        ObjectMapper line = new ObjectMapper();
        try (BufferedWriter w = Files.newBufferedWriter(predictionsOut)) {
            for (ScoredExample p : all) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("id", p.id());
                row.put("label", p.label());
                for (Method k : Method.values()) {
                    row.put(k.id(), p.probabilities(k));
                }
                if (p.priorOnly() != null) {
                    row.put("prior_only", p.priorOnly());
                }
                row.put("entropy", p.entropy());
                row.put("epistemic", p.epistemic());
                w.write(line.writeValueAsString(row));
                w.newLine();
            }
        }
    }

    private static void printTable(PrintWriter out, Map<Method, Calibration> calibration, Ablations ablations, Tuning tuning,
                                   LaplacePosterior posterior) {
        out.printf("%-30s %6s %8s %8s %8s %8s%n", "method", "n", "ACC %", "ECE %", "NLL", "Brier");
        calibration.forEach((k, c) -> row(out, k == Method.TEMPERATURE ? String.format("Temperature (T %.2f%s)", posterior.temperature(),
                PriorTuning.onCap(posterior.temperature(), PriorTuning.TEMPERATURE_CAP) ? ", its cap" : "") : k.title(), c));
        if (ablations != null) {
            out.println("ablations (tuned on --val the same way):");
            row(out, String.format("Temperature, uncapped (T %.3g%s)", tuning.uncapped().value(), tuning.uncapped().atCap()
                    ? ", search end" : ""), ablations.uncapped());
            row(out, String.format("Prior only (λ %.3g)", tuning.priorOnly().prior().lambda()), ablations.priorOnly());
        }
    }

    private static void row(PrintWriter out, String name, Calibration c) {
        CalibrationScores mt = c.metrics();
        out.printf("%-30s %6d %8.1f %8.1f %8.3f %8.3f%n", name, mt.n(), 100 * mt.accuracy(), 100 * mt.ece(), mt.nll(), mt.brier());
    }
}
