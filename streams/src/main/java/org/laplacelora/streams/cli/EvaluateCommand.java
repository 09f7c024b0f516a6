package org.laplacelora.streams.cli;

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
    @Option(names = "--prior-precision", paramLabel = "X") Double priorPrecision;
    @Mixin LinkOptions link = new LinkOptions(Links.EVALUATION_SAMPLES);
    @Mixin BatchSizeOption batch = new BatchSizeOption(8);
    @Mixin SeedOption seed = new SeedOption(0);

    @Override
    public Integer call() throws Exception {
        PrintWriter err = err();
        PrintWriter out = out();
        LaplacePosterior posterior = posteriorOptions.load();
        LinearisedPredictive predictive = link.predictive(seed.seed);
        try (AdaptedModelOptions.Adapted m = posteriorOptions.adapted.load()) {
            Task task = taskOptions.bind(m.model());
            new LaplacePredictor(m.model().llama(), m.adapter(), posterior, predictive).requireAnswers(task.answerIds());
            if (val != null) {
                posterior = retune(posterior, m, task, predictive, taskOptions.read(val, task, m.model(), err));
            }
            if (priorPrecision != null) {
                posterior = posterior.withPrior(posterior.prior().withLambda(priorPrecision));
            }
            LaplacePredictor predictor = new LaplacePredictor(m.model().llama(), m.adapter(), posterior, predictive);
            List<EncodedExample> testSet = taskOptions.read(test, task, m.model(), err);
            Map<Method, Calibration> calibration = new EnumMap<>(Method.class);
            for (Method k : Method.values()) {
                calibration.put(k, new Calibration());
            }
            List<ScoredExample> all = new ArrayList<>();
            try (ProgressBar bar = Progress.bar("evaluate", testSet.size(), "questions")) {
                for (int i = 0; i < testSet.size(); i += batch.batchSize) {
                    List<EncodedExample> b = testSet.subList(i, Math.min(i + batch.batchSize, testSet.size()));
                    for (ScoredExample p : predictor.predict(b, m.padId(), m.manager())) {
                        all.add(p);
                        if (p.label() >= 0) {
                            calibration.forEach((method, c) -> c.add(p.probabilities(method), p.label()));
                        }
                    }
                    bar.stepTo(Math.min(i + batch.batchSize, testSet.size()));
                }
            }
            printTable(out, calibration, posterior);
            if (json != null) {
                writeJson(calibration, posterior, predictive);
            }
            if (predictionsOut != null) {
                writePredictions(all);
            }
        }
        return 0;
    }

    /** λ of both Laplace methods for the link the evaluation uses, and the temperature, on the validation file. */
    private LaplacePosterior retune(LaplacePosterior posterior, AdaptedModelOptions.Adapted m, Task task, LinearisedPredictive predictive,
                                    List<EncodedExample> valSet) {
        ValidationSet v = ValidationSet.compute(m.model().llama(), m.adapter(), task.answerIds(), valSet, m.padId(), batch.batchSize,
                List.of(posterior), n -> {});
        LinearisedPredictive tuning = Links.forRetuning(predictive, task.numClasses(), seed.seed);
        double tau = posterior.prior().tau();
        return posterior
                .withPrior(PriorTuning.byValidation(v, posterior, LaplacePosterior.ALL, tuning, new double[] {tau}).prior())
                .withLastLayerPrior(PriorTuning.byValidation(v, posterior, LaplacePosterior.HEAD, tuning, new double[] {1}).prior())
                .withTemperature(v.temperature());
    }

    private void writeJson(Map<Method, Calibration> calibration, LaplacePosterior posterior, LinearisedPredictive predictive)
            throws java.io.IOException {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = mapper.createObjectNode();
        ObjectNode methods = root.putObject("methods");
        calibration.forEach((k, c) -> {
            CalibrationScores mt = c.metrics();
            ObjectNode node = methods.putObject(k.id());
            node.put("accuracy", mt.accuracy());
            node.put("ece", mt.ece());
            node.put("nll", mt.nll());
            node.put("brier", mt.brier());
            node.put("n", mt.n());
            node.put("mean_confidence_minus_accuracy", mt.meanConfidenceMinusAccuracy());
            node.putPOJO("bins", mt.bins());
        });
        ObjectNode settings = root.putObject("settings");
        settings.put("link", predictive.link().id());
        settings.put("samples", link.samples.samples);
        settings.put("convention", posterior.info().convention().id());
        settings.put("lambda", posterior.prior().lambda());
        settings.put("tau", posterior.prior().tau());
        settings.put("last_layer_lambda", posterior.lastLayerPrior().lambda());
        settings.put("temperature", posterior.temperature());
        settings.put("posterior", posteriorOptions.posterior.toString());
        settings.put("test_file", test.toString());
        mapper.writeValue(json.toFile(), root);
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
                w.write(line.writeValueAsString(row));
                w.newLine();
            }
        }
    }

    private static void printTable(PrintWriter out, Map<Method, Calibration> calibration, LaplacePosterior posterior) {
        out.printf("%-22s %6s %8s %8s %8s %8s%n", "method", "n", "ACC %", "ECE %", "NLL", "Brier");
        calibration.forEach((k, c) -> {
            CalibrationScores mt = c.metrics();
            String name = k == Method.TEMPERATURE ? String.format("Temperature (T %.2f)", posterior.temperature()) : k.title();
            out.printf("%-22s %6d %8.1f %8.1f %8.3f %8.3f%n", name, mt.n(), 100 * mt.accuracy(), 100 * mt.ece(), mt.nll(), mt.brier());
        });
    }
}
