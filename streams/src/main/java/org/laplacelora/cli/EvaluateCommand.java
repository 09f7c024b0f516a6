package org.laplacelora.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import org.laplacelora.model.io.ModelLoader;
import org.laplacelora.model.laplace.JacobianBatch;
import org.laplacelora.model.laplace.LaplacePosterior;
import org.laplacelora.model.laplace.LaplacePredictor;
import org.laplacelora.model.laplace.LinearisedPredictive;
import org.laplacelora.model.laplace.Link;
import org.laplacelora.model.laplace.PriorPrecision;
import org.laplacelora.model.laplace.PriorTuning;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.metrics.Calibration;
import org.laplacelora.model.metrics.CalibrationMetrics;
import org.laplacelora.model.tasks.EncodedExample;
import org.laplacelora.model.tasks.Task;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "evaluate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Evaluates MAP, temperature scaling, last-layer Laplace and Laplace-LoRA on a test file and prints "
                + "accuracy, ECE (10 equal-width bins on the top-1 confidence) and NLL in the paper's units.",
            "With --val, the prior precisions and the temperature are re-tuned on that file first."})
final class EvaluateCommand implements Callable<Integer> {
    static final List<String> METHODS = List.of("map", "temperature", "llla", "laplace");

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    TaskOptions taskOptions;

    @Mixin
    AdapterOptions adapterOptions;

    @Option(names = "--posterior", required = true, paramLabel = "FILE", description = "A posterior written by fit-posterior.")
    Path posteriorFile;

    @Option(names = "--test", required = true, paramLabel = "FILE", description = "Test file (official JSONL of the task).")
    Path test;

    @Option(names = "--val", paramLabel = "FILE", description = "Re-tune λ (Laplace-LoRA, last-layer) for the chosen --link, and the temperature, on this file.")
    Path val;

    @Option(names = "--json", paramLabel = "OUT", description = "Write {\"methods\": {...}} with accuracy, ece, nll, brier, n (fractions, nats).")
    Path json;

    @Option(names = "--predictions-out", paramLabel = "FILE.jsonl",
            description = "One line per question: id, label and the probability vectors map, temperature, llla, laplace.")
    Path predictionsOut;

    @Option(names = "--prior-precision", paramLabel = "X", description = "Use this λ for Laplace-LoRA instead of the posterior's.")
    Double priorPrecision;

    @Option(names = "--link", paramLabel = "mc|probit|binary", defaultValue = "mc",
            description = "Link approximation of the predictive. Default: ${DEFAULT-VALUE} (seeded per question).")
    String link;

    @Option(names = "--samples", paramLabel = "N", defaultValue = "100000", description = "Monte Carlo samples per question. Default: ${DEFAULT-VALUE}.")
    int samples;

    @Option(names = "--batch-size", paramLabel = "B", defaultValue = "8", description = "Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Monte Carlo seed (mixed with each question id). Default: ${DEFAULT-VALUE}.")
    long seed;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter out = spec.commandLine().getOut();
        LaplacePosterior posterior = LaplacePosterior.load(posteriorFile);
        LinearisedPredictive predictive = new LinearisedPredictive(Link.parse(link), samples, seed);
        try (ModelLoader.LoadedModel m = modelOptions.load();
             NDManager manager = NDManager.newBaseManager(m.llama().device());
             LoraAdapter lora = adapterOptions.load(m, manager)) {
            Task task = taskOptions.bind(m);
            LaplacePredictor predictor = new LaplacePredictor(m.llama(), lora, posterior, predictive);
            predictor.requireAnswers(task.answerIds());
            if (val != null) {
                retune(posterior, m, lora, task, predictive, taskOptions.read(val, task, m, err), manager);
            }
            if (priorPrecision != null) {
                posterior.setPrior(posterior.prior().withLambda(priorPrecision));
            }
            List<EncodedExample> testSet = taskOptions.read(test, task, m, err);
            Map<String, Calibration> calibration = new LinkedHashMap<>();
            METHODS.forEach(k -> calibration.put(k, new Calibration()));
            List<LaplacePredictor.Prediction> all = new ArrayList<>();
            try (ProgressBar bar = Progress.bar("evaluate", testSet.size(), "questions")) {
                for (int i = 0; i < testSet.size(); i += batchSize) {
                    List<EncodedExample> batch = testSet.subList(i, Math.min(i + batchSize, testSet.size()));
                    for (LaplacePredictor.Prediction p : predictor.predict(batch, m.tokenizer().bos(), manager)) {
                        all.add(p);
                        if (p.label() >= 0) {
                            calibration.get("map").add(p.map(), p.label());
                            calibration.get("temperature").add(p.temperature(), p.label());
                            calibration.get("llla").add(p.lastLayer(), p.label());
                            calibration.get("laplace").add(p.laplace(), p.label());
                        }
                    }
                    bar.stepTo(Math.min(i + batchSize, testSet.size()));
                }
            }
            printTable(out, calibration, posterior);
            ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            if (json != null) {
                ObjectNode root = mapper.createObjectNode();
                ObjectNode methods = root.putObject("methods");
                calibration.forEach((k, c) -> {
                    CalibrationMetrics mt = c.metrics();
                    ObjectNode node = methods.putObject(k);
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
                settings.put("samples", samples);
                settings.put("convention", posterior.info().convention().id());
                settings.put("lambda", posterior.prior().lambda());
                settings.put("tau", posterior.prior().tau());
                settings.put("last_layer_lambda", posterior.lastLayerPrior().lambda());
                settings.put("temperature", posterior.temperature());
                settings.put("posterior", posteriorFile.toString());
                settings.put("test_file", test.toString());
                mapper.writeValue(json.toFile(), root);
            }
            if (predictionsOut != null) {
                try (BufferedWriter w = Files.newBufferedWriter(predictionsOut)) {
                    ObjectMapper line = new ObjectMapper();
                    for (LaplacePredictor.Prediction p : all) {
                        Map<String, Object> row = new LinkedHashMap<>();
                        row.put("id", p.id());
                        row.put("label", p.label());
                        row.put("map", p.map());
                        row.put("temperature", p.temperature());
                        row.put("llla", p.lastLayer());
                        row.put("laplace", p.laplace());
                        w.write(line.writeValueAsString(row));
                        w.newLine();
                    }
                }
            }
        }
        return 0;
    }

    private void retune(LaplacePosterior posterior, ModelLoader.LoadedModel m, LoraAdapter lora, Task task, LinearisedPredictive predictive,
                        List<EncodedExample> valSet, NDManager manager) {
        List<double[]> mu = new ArrayList<>();
        org.laplacelora.model.laplace.ProjectedJacobians projected = null;
        for (int i = 0; i < valSet.size(); i += batchSize) {
            List<EncodedExample> batch = valSet.subList(i, Math.min(i + batchSize, valSet.size()));
            try (JacobianBatch j = JacobianBatch.compute(m.llama(), lora, task.answerIds(), batch, m.tokenizer().bos(), manager)) {
                projected = projected == null ? posterior.project(j) : projected.concat(posterior.project(j));
                mu.addAll(List.of(j.mu()));
            }
        }
        double[][] mus = mu.toArray(new double[0][]);
        int[] labels = valSet.stream().mapToInt(EncodedExample::label).toArray();
        String[] ids = valSet.stream().map(EncodedExample::id).toArray(String[]::new);
        PriorTuning.Validation v = new PriorTuning.Validation(projected, mus, labels, ids);
        // Tune for the link the evaluation uses (Monte Carlo with fewer samples, or exactly for two classes).
        LinearisedPredictive tuning = predictive.link() != Link.MC ? predictive
                : task.numClasses() == 2 ? new LinearisedPredictive(Link.BINARY, 1, seed) : new LinearisedPredictive(Link.MC, 2000, seed);
        double tau = posterior.prior().tau();
        PriorPrecision la = PriorTuning.byValidation(v, LaplacePosterior.ALL, tuning, new double[] {tau}).prior();
        posterior.setPrior(la);
        posterior.setLastLayerPrior(PriorTuning.byValidation(v, LaplacePosterior.HEAD, tuning, new double[] {1}).prior());
        posterior.setTemperature(PriorTuning.temperature(mus, labels));
    }

    private static void printTable(PrintWriter out, Map<String, Calibration> calibration, LaplacePosterior posterior) {
        Map<String, String> names = Map.of("map", "MAP", "temperature", String.format("Temperature (T %.2f)", posterior.temperature()),
                "llla", "Last-layer Laplace", "laplace", "Laplace-LoRA");
        out.printf("%-22s %6s %8s %8s %8s %8s%n", "method", "n", "ACC %", "ECE %", "NLL", "Brier");
        for (String k : METHODS) {
            CalibrationMetrics mt = calibration.get(k).metrics();
            out.printf("%-22s %6d %8.1f %8.1f %8.3f %8.3f%n", names.get(k), mt.n(), 100 * mt.accuracy(), 100 * mt.ece(), mt.nll(), mt.brier());
        }
    }
}
