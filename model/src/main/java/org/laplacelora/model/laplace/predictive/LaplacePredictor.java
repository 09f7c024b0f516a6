package org.laplacelora.model.laplace.predictive;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import org.laplacelora.model.core.Categorical;
import org.laplacelora.model.core.CheckpointException;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.laplace.posterior.PriorPrecision;
import org.laplacelora.model.llama.Llama;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.tasks.EncodedExample;

/**
 * Predictions of the four methods the paper compares, from one forward and C − 1 backward passes per
 * batch: MAP (softmax(μ)), temperature-scaled MAP (softmax(μ/T)), last-layer Laplace (the LM head's
 * blocks, own λ) and Laplace-LoRA (all blocks). The linearised predictive's mean is μ for both Laplace
 * methods; only the logit covariance differs.
 */
public final class LaplacePredictor {
    private final Llama llama;
    private final LoraAdapter adapter;
    private final LaplacePosterior posterior;
    private final LinearisedPredictive predictive;
    private final int[] answerIds;
    /** The prior-only ablation's prior (τ = 0), or null: then it is not computed. */
    private final PriorPrecision priorOnly;

    public LaplacePredictor(Llama llama, LoraAdapter adapter, LaplacePosterior posterior, LinearisedPredictive predictive)
            throws CheckpointException {
        this(llama, adapter, posterior, predictive, null);
        posterior.requireFittedOn(llama.identity(), adapter.identity());
    }

    private LaplacePredictor(Llama llama, LoraAdapter adapter, LaplacePosterior posterior, LinearisedPredictive predictive,
                             PriorPrecision priorOnly) {
        this.llama = llama;
        this.adapter = adapter;
        this.posterior = posterior;
        this.predictive = predictive.forPosterior(posterior);
        this.answerIds = posterior.info().answerIds();
        this.priorOnly = priorOnly;
    }

    /**
     * The same predictor that also scores the prior-only ablation: the same linearised predictive with Σ = I/λ
     * (the Jacobians' Gram matrices over λ, no curvature), from the same passes.
     */
    public LaplacePredictor withPriorOnly(PriorPrecision prior) {
        if (prior.tau() != 0) {
            throw new IllegalArgumentException("the prior-only ablation has no curvature (τ = 0), got τ = " + prior.tau());
        }
        return new LaplacePredictor(llama, adapter, posterior, predictive, prior);
    }

    public LaplacePosterior posterior() {
        return posterior;
    }

    /** The answer token ids the posterior was fitted with; the task must give the same. */
    public void requireAnswers(int[] taskAnswerIds) throws CheckpointException {
        posterior.requireAnswers(taskAnswerIds);
    }

    /** All four methods (what evaluate reports). */
    public List<ScoredExample> predict(List<EncodedExample> batch, int padId, NDManager manager) {
        try (JacobianBatch j = JacobianBatch.compute(llama, adapter, answerIds, batch, padId, manager)) {
            return predict(batch, j, true, true);
        }
    }

    /**
     * MAP, temperature scaling and Laplace-LoRA: what the scorer serves. Last-layer Laplace, which no prediction
     * carries, is left out (its fields empty): it would cost a second link per question.
     */
    public List<ScoredExample> predictServed(List<EncodedExample> batch, int padId, NDManager manager) {
        try (JacobianBatch j = JacobianBatch.compute(llama, adapter, answerIds, batch, padId, manager)) {
            return predict(batch, j, true, false);
        }
    }

    /**
     * MAP, temperature scaling and last-layer Laplace alone, from a forward pass and the head's Jacobians in
     * closed form (no backward pass); Laplace-LoRA's fields are left empty.
     */
    public List<ScoredExample> predictLastLayer(List<EncodedExample> batch, int padId, NDManager manager) {
        try (JacobianBatch j = LastLayerJacobians.compute(llama, adapter, answerIds, batch, padId, manager)) {
            return predict(batch, j, false, true);
        }
    }

    private List<ScoredExample> predict(List<EncodedExample> batch, JacobianBatch j, boolean full, boolean lastLayer) {
        ProjectedJacobians projected = ProjectedJacobians.of(posterior, j);
        List<ScoredExample> out = new ArrayList<>();
        for (int n = 0; n < batch.size(); n++) {
            EncodedExample e = batch.get(n);
            double[] mu = j.mu()[n];
            LinearisedPredictive.Distribution llla = lastLayer
                    ? predictive.predict(mu, projected.covariance(n, posterior.lastLayerPrior(), LaplacePosterior.HEAD), e.id()) : null;
            double[] sd = full ? projected.covariance(n, posterior.prior(), LaplacePosterior.ALL) : null;
            LinearisedPredictive.Distribution la = full ? predictive.predict(mu, sd, e.id()) : null;
            double[] isotropic = full && priorOnly != null
                    ? predictive.probabilities(mu, projected.covariance(n, priorOnly, LaplacePosterior.ALL), e.id()) : null;
            out.add(new ScoredExample(e.id(), e.label(), mu, sd, Categorical.softmax(mu),
                    Categorical.softmax(mu, posterior.temperature()), llla == null ? null : llla.probabilities(), la == null ? null : la.probabilities(),
                    la == null ? Double.NaN : la.entropy(), la == null ? Double.NaN : la.epistemic(), isotropic));
        }
        return out;
    }
}
