package org.laplacelora.model.laplace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntConsumer;
import org.laplacelora.model.llama.Llama;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.lora.LoraWeights;
import org.laplacelora.model.tasks.EncodedExample;
import org.laplacelora.model.tasks.PromptTemplates;

/**
 * Fits Kronecker-factored Laplace posteriors of a LoRA adapter on training examples: one pass of
 * forward and C − 1 backward passes per batch accumulates the curvature of every requested convention
 * (and the training log-likelihood the evidence needs); each becomes a posterior with λ = 1, τ = 1 until
 * its prior is tuned ({@link PriorTuning}).
 */
public final class LaplaceFit {
    /** Identity and settings of a fit. */
    public record Settings(String task, List<String> answers, int[] answerIds, FisherType fisher, int sketchRank,
                           int batchSize, int padId, long seed) {}

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
        for (CurvatureConvention c : conventions) {
            Curvature curvature = estimator.result(c);
            PosteriorInfo info = new PosteriorInfo(llama.identity(), adapter.identity(), s.task(), s.answers(), s.answerIds(),
                    PromptTemplates.VERSION, c, s.fisher(), s.sketchRank(), curvature.examples(), logLikelihood, theta);
            out.put(c, LaplacePosterior.fromCurvature(curvature, info));
        }
        return out;
    }

    /** ‖θ*‖² per block; the head's B counts only its answer rows (the rows the posterior covers). */
    public static Map<String, Double> thetaSquared(LoraAdapter adapter, int[] answerIds) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (Map.Entry<String, LoraWeights> e : adapter.modules().entrySet()) {
            out.put(e.getKey() + ".A", squaredNorm(e.getValue().a()));
            NDArray b = e.getValue().b();
            if (e.getKey().equals("lm_head")) {
                try (NDManager m = b.getManager().newSubManager(); NDArray rows = b.get(m,
                        new ai.djl.ndarray.index.NDIndex("{}", m.create(CapturedForward.toLongs(answerIds))))) {
                    out.put(e.getKey() + ".B", squaredNorm(rows));
                }
            } else {
                out.put(e.getKey() + ".B", squaredNorm(b));
            }
        }
        return out;
    }

    private static double squaredNorm(NDArray a) {
        double s = 0;
        for (double v : a.toType(DataType.FLOAT64, false).toDoubleArray()) {
            s += v * v;
        }
        return s;
    }
}
