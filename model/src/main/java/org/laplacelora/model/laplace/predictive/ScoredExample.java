package org.laplacelora.model.laplace.predictive;

/**
 * One example's predictions by the four methods the paper compares, from one forward and C − 1 backward
 * passes: probability vectors of MAP, temperature-scaled MAP, last-layer Laplace and Laplace-LoRA, the MAP
 * logits μ (the linearised predictive's mean), Laplace-LoRA's covariance S_d of the logit differences to the
 * last class (K × K) and the entropy of its predictive with the epistemic part of it; and, when asked for,
 * the prior-only ablation's probabilities (Σ = I/λ, no curvature; null otherwise).
 */
public record ScoredExample(String id, int label, double[] logitMean, double[] differenceCovariance, double[] map,
                            double[] temperature, double[] lastLayer, double[] laplace, double entropy, double epistemic,
                            double[] priorOnly) {
    /** The probabilities one method gives. */
    public double[] probabilities(Method method) {
        return switch (method) {
            case MAP -> map;
            case TEMPERATURE -> temperature;
            case LLLA -> lastLayer;
            case LAPLACE -> laplace;
        };
    }
}
