package org.laplacelora.streams.scorer;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.laplacelora.model.core.Categorical;
import org.laplacelora.model.core.CheckpointException;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.laplace.predictive.LaplacePredictor;
import org.laplacelora.model.laplace.predictive.LinearisedPredictive;
import org.laplacelora.model.laplace.predictive.ScoredExample;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.tasks.EncodedExample;
import org.laplacelora.schemas.avro.Prediction;
import org.laplacelora.schemas.avro.Question;
import org.laplacelora.streams.posteriors.ServedModel;

/**
 * The model side of the scorer: scores micro-batches of validated questions with the batched Laplace
 * predictive (one forward and C − 1 backward passes per batch) of the version in use, into Prediction
 * records that name it.
 */
public final class QuestionScorer implements AutoCloseable {
    private final ServedModel served;
    private final LinearisedPredictive predictive;
    /** The predictor of the version last scored with: building one checks (hashes) the adapter, once per version. */
    private volatile Cached cached;

    private record Cached(LaplacePosterior posterior, LoraAdapter adapter, LaplacePredictor predictor) {}

    public QuestionScorer(ServedModel served, LinearisedPredictive predictive) {
        this.served = served;
        this.predictive = predictive;
    }

    public ServedModel served() {
        return served;
    }

    /** Encodes a question, or throws with the dead-letter reason (see {@link ServedModel#validate}). */
    public ServedModel.Valid validate(Question q) {
        return served.validate(q);
    }

    /** Scores a micro-batch with one posterior version throughout; predictions in the batch's order. */
    public List<Prediction> score(List<ServedModel.Valid> batch, long startedAtMillis) {
        try (ServedModel.Lease version = served.lease()) {
            return score(batch, startedAtMillis, version);
        }
    }

    private List<Prediction> score(List<ServedModel.Valid> batch, long startedAtMillis, ServedModel.Lease version) {
        List<EncodedExample> encoded = batch.stream().map(ServedModel.Valid::encoded).toList();
        List<ScoredExample> scored = predictor(version).predictServed(encoded, served.padId(), served.manager());
        long now = System.currentTimeMillis();
        String model = served.model().llama().identity();
        String adapter = version.posterior().info().adapterIdentity();
        List<Prediction> out = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            Question q = batch.get(i).question();
            ScoredExample p = scored.get(i);
            int predicted = Categorical.argmax(p.laplace());
            out.add(Prediction.newBuilder()
                    .setQuestionId(q.getId())
                    .setTask(q.getTask())
                    .setLaplace(boxed(p.laplace()))
                    .setMap(boxed(p.map()))
                    .setTemperature(boxed(p.temperature()))
                    .setPredicted(predicted)
                    .setConfidence(p.laplace()[predicted])
                    .setEntropy(p.entropy())
                    .setEpistemic(p.epistemic())
                    .setLogitMean(boxed(p.logitMean()))
                    .setLogitCovariance(boxed(fullCovariance(p.differenceCovariance(), p.logitMean().length)))
                    .setPosteriorVersion(version.number())
                    .setModel(model)
                    .setAdapter(adapter)
                    .setQueueLatencyMs(Math.max(0, startedAtMillis - q.getProducedAt().toEpochMilli()))
                    .setComputeLatencyMs(now - startedAtMillis)
                    .setBatchSize(batch.size())
                    .setScoredAt(Instant.ofEpochMilli(now))
                    .build());
        }
        return out;
    }

    private LaplacePredictor predictor(ServedModel.Lease version) {
        Cached c = cached;
        if (c == null || c.posterior() != version.posterior() || c.adapter() != version.adapter()) {
            try {
                c = new Cached(version.posterior(), version.adapter(),
                        new LaplacePredictor(served.model().llama(), version.adapter(), version.posterior(), predictive));
            } catch (CheckpointException e) {
                throw new IllegalStateException("the served posterior does not fit the served model: " + e.getMessage(), e);
            }
            cached = c;
        }
        return c.predictor();
    }

    /** The C × C covariance of z − z_{C−1} (last row and column 0) from that of the C − 1 differences. */
    static double[] fullCovariance(double[] sd, int classes) {
        int k = classes - 1;
        double[] full = new double[classes * classes];
        for (int i = 0; i < k; i++) {
            System.arraycopy(sd, i * k, full, i * classes, k);
        }
        return full;
    }

    private static List<Double> boxed(double[] v) {
        List<Double> out = new ArrayList<>(v.length);
        for (double x : v) {
            out.add(x);
        }
        return out;
    }

    @Override
    public void close() {
        served.close();
    }
}
