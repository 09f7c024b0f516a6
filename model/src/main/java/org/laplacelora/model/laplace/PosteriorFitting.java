package org.laplacelora.model.laplace;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntConsumer;
import org.laplacelora.model.llama.Llama;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.metrics.Calibration;
import org.laplacelora.model.tasks.EncodedExample;
import org.laplacelora.model.tasks.Task;

/**
 * Fit and tune, end to end: the curvature of every requested convention in one pass over the training
 * data, then hyperparameters — by the evidence of the training data when there is no validation data
 * (the paper's first protocol), else by validation log-likelihood under the predictive (its second
 * protocol), where the curvature scale τ is tuned too for the paper's over-counting factors, the
 * temperature of the TS baseline is fitted on the same data, and the convention whose Laplace-LoRA
 * predictive has the lowest validation NLL is chosen.
 */
public final class PosteriorFitting {
    /** τ grid for {@link CurvatureConvention#PAPER}: 10^-3 … 1 (its factors over-count by up to the sequence length). */
    public static final double[] PAPER_TAUS = taus();

    private static double[] taus() {
        double[] t = new double[13];
        for (int i = 0; i < t.length; i++) {
            t[i] = Math.pow(10, -3 + 0.25 * i);
        }
        return t;
    }

    /**
     * @param curvatureScale a fixed τ for every convention, or NaN for the default: tuned on validation for
     *     the paper's convention, 1 otherwise
     */
    public record Options(Set<CurvatureConvention> conventions, FisherType fisher, int sketchRank, int batchSize,
                          boolean perModulePrior, int tuningSamples, double curvatureScale, long seed) {
        double[] taus(CurvatureConvention c) {
            if (!Double.isNaN(curvatureScale)) {
                return new double[] {curvatureScale};
            }
            return c == CurvatureConvention.PAPER ? PAPER_TAUS : new double[] {1};
        }

        double evidenceTau() {
            return Double.isNaN(curvatureScale) ? 1 : curvatureScale;
        }
    }

    /** The chosen posterior and, per convention tried, what it scored. */
    public record Result(LaplacePosterior posterior, Map<CurvatureConvention, Map<String, Object>> conventions) {}

    private PosteriorFitting() {}

    public static Result fit(Llama llama, LoraAdapter adapter, Task task, List<EncodedExample> train, List<EncodedExample> val,
                             Options o, int padId, IntConsumer trainProgress, IntConsumer valProgress) {
        Set<CurvatureConvention> conventions = o.conventions().isEmpty() ? EnumSet.of(CurvatureConvention.REDUCE) : o.conventions();
        LaplaceFit.Settings settings = new LaplaceFit.Settings(task.kind().id(), task.answers(), task.answerIds(), o.fisher(),
                o.sketchRank(), o.batchSize(), padId, o.seed());
        Map<CurvatureConvention, LaplacePosterior> fitted = LaplaceFit.fit(llama, adapter, train, conventions, settings, trainProgress);
        Map<CurvatureConvention, Map<String, Object>> scores = new EnumMap<>(CurvatureConvention.class);
        if (val == null || val.isEmpty()) {
            for (Map.Entry<CurvatureConvention, LaplacePosterior> e : fitted.entrySet()) {
                LaplacePosterior p = e.getValue();
                PriorTuning.Tuned la = PriorTuning.byEvidence(p, LaplacePosterior.ALL, o.perModulePrior(), o.evidenceTau(), 2000);
                PriorTuning.Tuned head = PriorTuning.byEvidence(p, LaplacePosterior.HEAD, false, 1, 2000);
                p.setPrior(la.prior());
                p.setLastLayerPrior(head.prior());
                Map<String, Object> report = new LinkedHashMap<>();
                report.put("laplace", la.report());
                report.put("last_layer", head.report());
                report.put("log_evidence", la.objective());
                p.setReport(Map.of("protocol", "evidence", "tuning", report));
                scores.put(e.getKey(), report);
            }
            CurvatureConvention chosen = conventions.size() == 1 ? conventions.iterator().next()
                    : conventions.contains(CurvatureConvention.REDUCE) ? CurvatureConvention.REDUCE : conventions.iterator().next();
            return new Result(fitted.get(chosen), scores);
        }

        // Validation protocol: Jacobians once, projected onto every convention's eigenbases.
        Map<CurvatureConvention, ProjectedJacobians> projected = new EnumMap<>(CurvatureConvention.class);
        List<double[]> mu = new ArrayList<>();
        try (NDManager m = NDManager.newBaseManager(llama.device())) {
            for (int i = 0; i < val.size(); i += o.batchSize()) {
                List<EncodedExample> batch = val.subList(i, Math.min(i + o.batchSize(), val.size()));
                try (JacobianBatch j = JacobianBatch.compute(llama, adapter, task.answerIds(), batch, padId, m)) {
                    for (Map.Entry<CurvatureConvention, LaplacePosterior> e : fitted.entrySet()) {
                        ProjectedJacobians pj = e.getValue().project(j);
                        projected.merge(e.getKey(), pj, ProjectedJacobians::concat);
                    }
                    for (double[] row : j.mu()) {
                        mu.add(row);
                    }
                }
                valProgress.accept(Math.min(i + o.batchSize(), val.size()));
            }
        }
        double[][] mus = mu.toArray(new double[0][]);
        int[] labels = val.stream().mapToInt(EncodedExample::label).toArray();
        String[] ids = val.stream().map(EncodedExample::id).toArray(String[]::new);
        double temperature = PriorTuning.temperature(mus, labels);
        LinearisedPredictive tuning = task.numClasses() == 2
                ? new LinearisedPredictive(Link.BINARY, 1, o.seed())
                : new LinearisedPredictive(Link.MC, o.tuningSamples(), o.seed());
        CurvatureConvention best = null;
        double bestNll = Double.POSITIVE_INFINITY;
        for (Map.Entry<CurvatureConvention, LaplacePosterior> e : fitted.entrySet()) {
            LaplacePosterior p = e.getValue();
            PriorTuning.Validation v = new PriorTuning.Validation(projected.get(e.getKey()), mus, labels, ids);
            PriorTuning.Tuned la = PriorTuning.byValidation(v, LaplacePosterior.ALL, tuning, o.taus(e.getKey()));
            PriorTuning.Tuned head = PriorTuning.byValidation(v, LaplacePosterior.HEAD, tuning, new double[] {1});
            p.setPrior(la.prior());
            p.setLastLayerPrior(head.prior());
            p.setTemperature(temperature);
            Map<String, Object> report = new LinkedHashMap<>();
            report.put("lambda", la.prior().lambda());
            report.put("tau", la.prior().tau());
            report.put("validation_nll", la.objective());
            report.put("validation_ece", validationEce(v, la.prior(), tuning));
            report.put("lambda_at_range_boundary", la.atBoundary());
            report.put("last_layer_lambda", head.prior().lambda());
            report.put("last_layer_validation_nll", head.objective());
            report.put("last_layer_lambda_at_range_boundary", head.atBoundary());
            scores.put(e.getKey(), report);
            if (la.objective() < bestNll) {
                bestNll = la.objective();
                best = e.getKey();
            }
        }
        Map<String, Object> conventionsReport = new LinkedHashMap<>();
        scores.forEach((k, v) -> conventionsReport.put(k.id(), v));
        LaplacePosterior chosen = fitted.get(best);
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("protocol", "validation");
        report.put("validation_examples", val.size());
        report.put("tuning_link", tuning.link().id());
        report.put("temperature", temperature);
        report.put("chosen_convention", best.id());
        report.put("conventions", conventionsReport);
        chosen.setReport(report);
        return new Result(chosen, scores);
    }

    private static double validationEce(PriorTuning.Validation v, PriorPrecision p, LinearisedPredictive predictive) {
        Calibration c = new Calibration();
        for (int n = 0; n < v.labels().length; n++) {
            double[] sd = v.jacobians().covariance(n, p, LaplacePosterior.ALL);
            c.add(predictive.probabilities(v.mu()[n], sd, v.ids()[n]), v.labels()[n]);
        }
        return c.metrics().ece();
    }
}
