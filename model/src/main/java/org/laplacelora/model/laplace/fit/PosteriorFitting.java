package org.laplacelora.model.laplace.fit;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;
import org.laplacelora.model.laplace.curvature.CurvatureConvention;
import org.laplacelora.model.laplace.posterior.FitReport;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.laplace.predictive.LinearisedPredictive;
import org.laplacelora.model.laplace.predictive.Link;
import org.laplacelora.model.laplace.predictive.Links;
import org.laplacelora.model.llama.Llama;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.tasks.EncodedExample;
import org.laplacelora.model.tasks.Task;

/**
 * Fit and tune, end to end: the curvature of every requested convention in one pass over the training
 * data, then hyperparameters — by the evidence of the training data when there is no validation data
 * (the paper's first protocol), else by validation log-likelihood under the predictive (its second
 * protocol), where the curvature scale τ is tuned too for the paper's over-counting factors, the
 * temperature of the TS baseline is fitted on the same data, and the convention whose Laplace-LoRA
 * predictive has the lowest validation NLL is chosen. The posterior's report says how.
 */
public final class PosteriorFitting {
    private PosteriorFitting() {}

    public static LaplacePosterior fit(Llama llama, LoraAdapter adapter, Task task, List<EncodedExample> train,
                                       List<EncodedExample> val, FitSettings o, int padId, IntConsumer trainProgress,
                                       IntConsumer valProgress) {
        Map<CurvatureConvention, LaplacePosterior> fitted = LaplaceFit.fit(llama, adapter, train, o.conventions(),
                LaplaceFit.Settings.of(task, o, padId), trainProgress);
        if (val == null || val.isEmpty()) {
            CurvatureConvention chosen = fitted.size() == 1 ? fitted.keySet().iterator().next()
                    : fitted.containsKey(CurvatureConvention.REDUCE) ? CurvatureConvention.REDUCE : fitted.keySet().iterator().next();
            LaplacePosterior p = fitted.get(chosen);
            PriorTuning.Tuned la = PriorTuning.byEvidence(p, LaplacePosterior.ALL, o.perModulePrior(), o.evidenceTau(), 2000);
            PriorTuning.Tuned head = PriorTuning.byEvidence(p, LaplacePosterior.HEAD, false, 1, 2000);
            return p.withPrior(la.prior()).withLastLayerPrior(head.prior())
                    .withReport(new FitReport.Evidence(new FitReport.EvidenceTuning(la.report(), head.report(), la.objective())));
        }

        ValidationSet v = ValidationSet.compute(llama, adapter, task.answerIds(), val, padId, o.batchSize(), fitted.values(),
                valProgress);
        double temperature = v.temperature();
        LinearisedPredictive tuning = Links.forTuning(task.numClasses(), o.tuningSamples(), o.seed());
        Map<CurvatureConvention, FitReport.ConventionScore> scores = new EnumMap<>(CurvatureConvention.class);
        Map<CurvatureConvention, LaplacePosterior> tuned = new EnumMap<>(CurvatureConvention.class);
        CurvatureConvention best = null;
        for (Map.Entry<CurvatureConvention, LaplacePosterior> e : fitted.entrySet()) {
            LaplacePosterior p = e.getValue();
            PriorTuning.Tuned la = PriorTuning.byValidation(v, p, LaplacePosterior.ALL, tuning, o.taus(e.getKey()));
            PriorTuning.Tuned head = PriorTuning.byValidation(v, p, LaplacePosterior.HEAD, tuning, new double[] {1});
            tuned.put(e.getKey(), p.withPrior(la.prior()).withLastLayerPrior(head.prior()).withTemperature(temperature));
            scores.put(e.getKey(), new FitReport.ConventionScore(la.prior().lambda(), la.prior().tau(), la.objective(),
                    v.calibration(p, la.prior(), LaplacePosterior.ALL, tuning).ece(), la.atBoundary(), head.prior().lambda(),
                    head.objective(), head.atBoundary()));
            if (best == null || la.objective() < scores.get(best).validationNll()) {
                best = e.getKey();
            }
        }
        LaplacePosterior chosen = tuned.get(best).withLink(tuning.link().id());
        Map<String, Double> linkNll = new java.util.LinkedHashMap<>();
        if (task.numClasses() > 2) {
            // The link is chosen like the convention, on the validation rows: Monte Carlo (the paper's) or the
            // deterministic probit, each with its own λ; never after a look at test numbers.
            LinearisedPredictive probit = new LinearisedPredictive(Link.PROBIT, 1, o.seed());
            PriorTuning.Tuned la = PriorTuning.byValidation(v, fitted.get(best), LaplacePosterior.ALL, probit, o.taus(best));
            linkNll.put(tuning.link().id(), scores.get(best).validationNll());
            linkNll.put(Link.PROBIT.id(), la.objective());
            if (la.objective() < scores.get(best).validationNll()) {
                PriorTuning.Tuned head = PriorTuning.byValidation(v, fitted.get(best), LaplacePosterior.HEAD, probit, new double[] {1});
                chosen = chosen.withPrior(la.prior()).withLastLayerPrior(head.prior()).withLink(Link.PROBIT.id());
            }
        }
        return chosen.withReport(new FitReport.Validation(val.size(), chosen.link(), temperature, best, scores, linkNll));
    }
}
