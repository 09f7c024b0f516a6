package org.laplacelora.model.laplace.posterior;

import io.soabase.recordbuilder.core.RecordBuilder;
import java.util.List;
import java.util.Map;
import org.laplacelora.model.laplace.curvature.CurvatureConvention;
import org.laplacelora.model.laplace.curvature.FisherType;

/**
 * What a posterior was fitted on and with, saved with it: a posterior must never be used with another
 * model, adapter, task rendering or answer tokens than its own.
 *
 * @param examples N, the training examples the curvature sums over
 * @param trainLogLikelihood Σ_n log p(y_n | x_n, θ*) on those examples (the evidence's data term)
 * @param thetaSquared ‖θ*‖² per block ("module.A", "module.B"; the head's B on the answer rows only)
 */
@RecordBuilder
public record PosteriorInfo(String modelIdentity, String adapterIdentity, String task, List<String> answers,
                            int[] answerIds, String templateVersion, CurvatureConvention convention, FisherType fisher,
                            int sketchRank, long examples, double trainLogLikelihood, Map<String, Double> thetaSquared)
        implements PosteriorInfoBuilder.With {
    public PosteriorInfo {
        answers = List.copyOf(answers);
        answerIds = answerIds.clone();
        thetaSquared = Map.copyOf(thetaSquared);
    }

    /** The same fit on other data: N and the training log-likelihood change, nothing else. */
    public PosteriorInfo withData(long n, double logLikelihood) {
        return withExamples(n).withTrainLogLikelihood(logLikelihood);
    }

    public double thetaSquaredTotal() {
        return thetaSquared.values().stream().mapToDouble(Double::doubleValue).sum();
    }
}
