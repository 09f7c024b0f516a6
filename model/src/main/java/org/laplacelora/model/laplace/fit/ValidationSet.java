package org.laplacelora.model.laplace.fit;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;
import java.util.function.Predicate;
import org.laplacelora.model.core.Categorical;
import org.laplacelora.model.laplace.curvature.LoraBlock;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.laplace.posterior.PosteriorBlock;
import org.laplacelora.model.laplace.posterior.PriorPrecision;
import org.laplacelora.model.laplace.predictive.JacobianBatch;
import org.laplacelora.model.laplace.predictive.LinearisedPredictive;
import org.laplacelora.model.laplace.predictive.ProjectedJacobians;
import org.laplacelora.model.llama.Llama;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.metrics.Calibration;
import org.laplacelora.model.metrics.CalibrationScores;
import org.laplacelora.model.tasks.EncodedExample;

/**
 * Labelled examples with what every predictive on them needs, computed once: the MAP logits μ at one
 * adapter's weights (one mean) and the Jacobians of the logit differences, projected onto the eigenbases of
 * the posteriors to be tuned or compared (all of them fitted on that adapter). A prior-precision sweep, the
 * choice of convention, a temperature and a refit's gate then cost only arithmetic on these.
 */
public final class ValidationSet {
    private final double[][] mu;
    private final int[] labels;
    private final String[] ids;
    /** Keyed by a posterior's block list, which every posterior derived from it by withPrior and the like shares. */
    private final Map<List<PosteriorBlock>, ProjectedJacobians> projected;

    private ValidationSet(double[][] mu, int[] labels, String[] ids, Map<List<PosteriorBlock>, ProjectedJacobians> projected) {
        this.mu = mu;
        this.labels = labels;
        this.ids = ids;
        this.projected = projected;
    }

    /**
     * One forward and C − 1 backward passes per batch of {@code examples}, each batch's Jacobians projected onto
     * every posterior's eigenbases and then released (they are the size of the adapter times C − 1 per example).
     *
     * @param progress called with the number of examples done
     */
    public static ValidationSet compute(Llama llama, LoraAdapter adapter, int[] answerIds, List<EncodedExample> examples,
                                        int padId, int batchSize, Collection<LaplacePosterior> posteriors, IntConsumer progress) {
        if (examples.isEmpty()) {
            throw new IllegalArgumentException("a validation set needs at least one example");
        }
        String adapterIdentity = adapter.identity();
        Map<List<PosteriorBlock>, LaplacePosterior> bases = new IdentityHashMap<>();   // one per distinct set of eigenbases
        Map<List<PosteriorBlock>, List<ProjectedJacobians>> parts = new IdentityHashMap<>();
        for (LaplacePosterior p : posteriors) {
            if (!p.info().adapterIdentity().equals(adapterIdentity)) {
                throw new IllegalArgumentException("a validation set is computed at one adapter's weights; a posterior of adapter "
                        + p.info().adapterIdentity() + " cannot use it");
            }
            bases.putIfAbsent(p.blocks(), p);
            parts.putIfAbsent(p.blocks(), new ArrayList<>());
        }
        List<double[]> mu = new ArrayList<>();
        try (NDManager m = NDManager.newBaseManager(llama.device())) {
            for (int i = 0; i < examples.size(); i += batchSize) {
                List<EncodedExample> batch = examples.subList(i, Math.min(i + batchSize, examples.size()));
                try (JacobianBatch j = JacobianBatch.compute(llama, adapter, answerIds, batch, padId, m)) {
                    bases.forEach((blocks, p) -> parts.get(blocks).add(ProjectedJacobians.of(p, j)));
                    mu.addAll(List.of(j.mu()));
                }
                progress.accept(Math.min(i + batchSize, examples.size()));
            }
        }
        Map<List<PosteriorBlock>, ProjectedJacobians> projected = new IdentityHashMap<>();
        parts.forEach((blocks, batches) -> projected.put(blocks, ProjectedJacobians.concat(batches)));
        return new ValidationSet(mu.toArray(new double[0][]), examples.stream().mapToInt(EncodedExample::label).toArray(),
                examples.stream().map(EncodedExample::id).toArray(String[]::new), projected);
    }

    /** The same questions with other labels (what the predictives are scored against). */
    public ValidationSet withLabels(int[] other) {
        if (other.length != labels.length) {
            throw new IllegalArgumentException(other.length + " labels for " + labels.length + " examples");
        }
        return new ValidationSet(mu, other.clone(), ids, projected);
    }

    public int size() {
        return labels.length;
    }

    /** The MAP answer logits of each example. */
    public double[][] mu() {
        return mu;
    }

    public int[] labels() {
        return labels.clone();
    }

    /** The Jacobians projected onto {@code posterior}'s eigenbases. */
    public ProjectedJacobians projected(LaplacePosterior posterior) {
        ProjectedJacobians p = projected.get(posterior.blocks());
        if (p == null) {
            throw new IllegalArgumentException("this validation set was not projected onto that posterior's eigenbases");
        }
        return p;
    }

    /** Example n's predictive probabilities under a posterior with {@code prior}, over the blocks {@code include} accepts. */
    public double[] probabilities(int n, LaplacePosterior posterior, PriorPrecision prior, Predicate<LoraBlock> include,
                                  LinearisedPredictive link) {
        return link.probabilities(mu[n], projected(posterior).covariance(n, prior, include), ids[n]);
    }

    /** Mean negative log-likelihood of the labels under that predictive. */
    public double nll(LaplacePosterior posterior, PriorPrecision prior, Predicate<LoraBlock> include, LinearisedPredictive link) {
        double s = 0;
        for (int n = 0; n < labels.length; n++) {
            s -= Math.log(Math.max(probabilities(n, posterior, prior, include, link)[labels[n]], 1e-12));
        }
        return s / labels.length;
    }

    /** Accuracy, ECE, NLL and the rest of that predictive on these examples. */
    public CalibrationScores calibration(LaplacePosterior posterior, PriorPrecision prior, Predicate<LoraBlock> include,
                                         LinearisedPredictive link) {
        Calibration c = new Calibration();
        for (int n = 0; n < labels.length; n++) {
            c.add(probabilities(n, posterior, prior, include, link), labels[n]);
        }
        return c.metrics();
    }

    /** Accuracy, ECE, NLL and the rest of softmax(μ/T): MAP at T = 1, the temperature-scaling baseline otherwise. */
    public CalibrationScores calibrationAt(double temperature) {
        Calibration c = new Calibration();
        for (int n = 0; n < labels.length; n++) {
            c.add(Categorical.softmax(mu[n], temperature), labels[n]);
        }
        return c.metrics();
    }

    /** The temperature-scaling baseline fitted on these examples. */
    public double temperature() {
        return PriorTuning.temperature(mu, labels);
    }

    /** The temperature fitted on these examples in [0.05, cap], with whether it is the cap. */
    public PriorTuning.Temperature temperature(double cap) {
        return PriorTuning.temperature(mu, labels, cap);
    }
}
