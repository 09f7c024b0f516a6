package org.laplacelora.model.laplace;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.laplacelora.model.io.CheckpointException;
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
    /** One question's predictions; {@code differenceCovariance} is Laplace-LoRA's S_d (K × K). */
    public record Prediction(String id, int label, double[] logitMean, double[] differenceCovariance, double[] map,
                             double[] temperature, double[] lastLayer, double[] laplace, double entropy, double epistemic) {}

    private final Llama llama;
    private final LoraAdapter adapter;
    private final LaplacePosterior posterior;
    private final LinearisedPredictive predictive;
    private final int[] answerIds;

    public LaplacePredictor(Llama llama, LoraAdapter adapter, LaplacePosterior posterior, LinearisedPredictive predictive)
            throws CheckpointException {
        PosteriorInfo info = posterior.info();
        if (!info.modelIdentity().equals(llama.identity())) {
            throw new CheckpointException("the posterior was fitted on model " + info.modelIdentity() + ", not " + llama.identity());
        }
        if (!info.adapterIdentity().equals(adapter.identity())) {
            throw new CheckpointException("the posterior was fitted on adapter " + info.adapterIdentity() + ", not " + adapter.identity());
        }
        this.llama = llama;
        this.adapter = adapter;
        this.posterior = posterior;
        this.predictive = predictive;
        this.answerIds = info.answerIds();
    }

    /** The answer token ids the posterior was fitted with; the task must give the same. */
    public void requireAnswers(int[] taskAnswerIds) throws CheckpointException {
        if (!Arrays.equals(taskAnswerIds, answerIds)) {
            throw new CheckpointException("the posterior's answer tokens " + Arrays.toString(answerIds)
                    + " differ from the task's " + Arrays.toString(taskAnswerIds));
        }
    }

    public List<Prediction> predict(List<EncodedExample> batch, int padId, NDManager manager) {
        try (JacobianBatch j = JacobianBatch.compute(llama, adapter, answerIds, batch, padId, manager)) {
            return predict(batch, j);
        }
    }

    /** Predictions from already computed Jacobians (so callers can also keep them, e.g. for tuning). */
    public List<Prediction> predict(List<EncodedExample> batch, JacobianBatch j) {
        ProjectedJacobians projected = posterior.project(j);
        List<Prediction> out = new ArrayList<>();
        for (int n = 0; n < batch.size(); n++) {
            EncodedExample e = batch.get(n);
            double[] mu = j.mu()[n];
            double[] sd = projected.covariance(n, posterior.prior(), LaplacePosterior.ALL);
            double[] sdHead = projected.covariance(n, posterior.lastLayerPrior(), LaplacePosterior.HEAD);
            LinearisedPredictive.Prediction la = predictive.predict(mu, sd, e.id());
            LinearisedPredictive.Prediction llla = predictive.predict(mu, sdHead, e.id());
            double[] scaled = mu.clone();
            for (int c = 0; c < scaled.length; c++) {
                scaled[c] /= posterior.temperature();
            }
            out.add(new Prediction(e.id(), e.label(), mu, sd, CurvatureEstimator.softmax(mu), CurvatureEstimator.softmax(scaled),
                    llla.probabilities(), la.probabilities(), la.entropy(), la.epistemic()));
        }
        return out;
    }
}
