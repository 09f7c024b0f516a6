package org.laplacelora.model.laplace;

import java.util.List;
import java.util.Map;

/**
 * What a posterior was fitted on and with, saved with it: a posterior must never be used with another
 * model, adapter, task rendering or answer tokens than its own.
 *
 * @param examples N, the training examples the curvature sums over
 * @param trainLogLikelihood Σ_n log p(y_n | x_n, θ*) on those examples (the evidence's data term)
 * @param thetaSquared ‖θ*‖² per block ("module.A", "module.B"; the head's B on the answer rows only)
 */
public record PosteriorInfo(String modelIdentity, String adapterIdentity, String task, List<String> answers,
                            int[] answerIds, String templateVersion, CurvatureConvention convention, FisherType fisher,
                            int sketchRank, long examples, double trainLogLikelihood, Map<String, Double> thetaSquared) {
    public PosteriorInfo {
        answers = List.copyOf(answers);
        answerIds = answerIds.clone();
        thetaSquared = Map.copyOf(thetaSquared);
    }

    public double thetaSquaredTotal() {
        return thetaSquared.values().stream().mapToDouble(Double::doubleValue).sum();
    }
}
