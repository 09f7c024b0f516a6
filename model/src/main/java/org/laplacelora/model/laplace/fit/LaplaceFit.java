package org.laplacelora.model.laplace.fit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import io.soabase.recordbuilder.core.RecordBuilder;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntConsumer;
import org.laplacelora.model.core.Tensors;
import org.laplacelora.model.laplace.curvature.Curvature;
import org.laplacelora.model.laplace.curvature.CurvatureConvention;
import org.laplacelora.model.laplace.curvature.CurvatureEstimator;
import org.laplacelora.model.laplace.curvature.FisherType;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.laplace.posterior.PosteriorInfo;
import org.laplacelora.model.laplace.posterior.PosteriorInfoBuilder;
import org.laplacelora.model.llama.Llama;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.lora.LoraWeights;
import org.laplacelora.model.tasks.EncodedExample;
import org.laplacelora.model.tasks.PromptTemplates;
import org.laplacelora.model.tasks.Task;

/**
 * Fits Kronecker-factored Laplace posteriors of a LoRA adapter on training examples: one pass of
 * forward and C − 1 backward passes per batch accumulates the curvature of every requested convention
 * (and the training log-likelihood the evidence needs); each becomes a posterior with λ = 1, τ = 1 until
 * its prior is tuned ({@link PriorTuning}).
 */
public final class LaplaceFit {
    /** Identity and settings of a fit. */
    @RecordBuilder
    public record Settings(String task, List<String> answers, int[] answerIds, FisherType fisher, int sketchRank,
                           int batchSize, int padId, long seed) {
        /** A fit of the task's answers with a posterior fit's settings. */
        public static Settings of(Task task, FitSettings s, int padId) {
            return new Settings(task.kind().id(), task.answers(), task.answerIds(), s.fisher(), s.sketchRank(), s.batchSize(),
                    padId, s.seed());
        }
    }

    private LaplaceFit() {}

    /** Fits one posterior per convention over {@code train}, calling {@code progress} with the examples done. */
    public static Map<CurvatureConvention, LaplacePosterior> fit(Llama llama, LoraAdapter adapter, List<EncodedExample> train,
                                                                 Set<CurvatureConvention> conventions, Settings s,
                                                                 IntConsumer progress) {
        if (train.isEmpty()) {
            throw new IllegalArgumentException("no training examples to fit the posterior on");
        }
        CurvatureEstimator estimator = new CurvatureEstimator(llama, adapter, s.answerIds(),
                conventions.isEmpty() ? EnumSet.of(CurvatureConvention.REDUCE) : conventions, s.fisher(), s.sketchRank(), s.seed());
        double logLikelihood = 0;
        try (NDManager m = NDManager.newBaseManager(llama.device())) {
            for (int i = 0; i < train.size(); i += s.batchSize()) {
                List<EncodedExample> batch = train.subList(i, Math.min(i + s.batchSize(), train.size()));
                logLikelihood += estimator.add(batch, s.padId(), m);
                progress.accept(Math.min(i + s.batchSize(), train.size()));
            }
        }
        Map<String, Double> theta = thetaSquared(adapter, s.answerIds());
        Map<CurvatureConvention, LaplacePosterior> out = new LinkedHashMap<>();
        String adapterIdentity = adapter.identity();
        for (CurvatureConvention c : conventions) {
            Curvature curvature = estimator.result(c);
            PosteriorInfo info = PosteriorInfoBuilder.builder().modelIdentity(llama.identity()).adapterIdentity(adapterIdentity)
                    .task(s.task()).answers(s.answers()).answerIds(s.answerIds()).templateVersion(PromptTemplates.VERSION)
                    .convention(c).fisher(s.fisher()).sketchRank(s.sketchRank()).examples(curvature.examples())
                    .trainLogLikelihood(logLikelihood).thetaSquared(theta).build();
            out.put(c, LaplacePosterior.fromCurvature(curvature, info));
        }
        return out;
    }

    /** ‖θ*‖² per block; the head's B counts only its answer rows (the rows the posterior covers). */
    public static Map<String, Double> thetaSquared(LoraAdapter adapter, int[] answerIds) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (Map.Entry<String, LoraWeights> e : adapter.modules().entrySet()) {
            out.put(e.getKey() + ".A", Tensors.squaredNorm(e.getValue().a()));
            NDArray b = e.getValue().b();
            if (e.getKey().equals(Llama.LM_HEAD)) {
                try (NDManager m = b.getManager().newSubManager();
                     NDArray rows = b.get(m, new NDIndex("{}", m.create(Tensors.toLongs(answerIds))))) {
                    out.put(e.getKey() + ".B", Tensors.squaredNorm(rows));
                }
            } else {
                out.put(e.getKey() + ".B", Tensors.squaredNorm(b));
            }
        }
        return out;
    }
}
