package org.laplacelora.streams.scorer;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.laplacelora.model.io.CheckpointException;
import org.laplacelora.model.io.ModelLoader;
import org.laplacelora.model.laplace.LaplacePosterior;
import org.laplacelora.model.laplace.LaplacePredictor;
import org.laplacelora.model.laplace.LinearisedPredictive;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.metrics.Calibration;
import org.laplacelora.model.tasks.EncodedExample;
import org.laplacelora.model.tasks.InvalidQuestionException;
import org.laplacelora.model.tasks.Task;
import org.laplacelora.model.tasks.TaskKind;
import org.laplacelora.schemas.avro.Prediction;
import org.laplacelora.schemas.avro.Question;

/**
 * The model side of the scorer: checks a question can be scored by this model and posterior, and scores
 * micro-batches with the batched Laplace predictive (one forward and C − 1 backward passes per batch).
 * A scorer serves one task: its posterior's (a generic question must have the posterior's answer tokens).
 */
public final class QuestionScorer implements AutoCloseable {
    /** A question that passed validation, with its token ids. */
    public record Valid(Question question, EncodedExample encoded) {}

    private final ModelLoader.LoadedModel model;
    private final LoraAdapter adapter;
    private final NDManager manager;
    private final LinearisedPredictive predictive;
    private final Task task;
    private final int maxLength;
    private volatile Served served;

    /** The posterior in use and its version, swapped as one. */
    private record Served(LaplacePosterior posterior, LaplacePredictor predictor, long version) {}

    public QuestionScorer(ModelLoader.LoadedModel model, LoraAdapter adapter, NDManager manager, LaplacePosterior posterior,
                          long version, LinearisedPredictive predictive, int maxLength) throws CheckpointException {
        this.model = model;
        this.adapter = adapter;
        this.manager = manager;
        this.predictive = predictive;
        this.maxLength = Math.min(maxLength, model.llama().config().maxPositions());
        TaskKind kind = TaskKind.parse(posterior.info().task());
        this.task = kind == TaskKind.GENERIC ? null : Task.of(kind, model.tokenizer());
        this.served = serve(posterior, version);
    }

    private Served serve(LaplacePosterior posterior, long version) throws CheckpointException {
        LaplacePredictor predictor = new LaplacePredictor(model.llama(), adapter, posterior, predictive);
        if (task != null) {
            predictor.requireAnswers(task.answerIds());
        }
        return new Served(posterior, predictor, version);
    }

    /** Replaces the posterior between micro-batches (it must belong to the same model and adapter). */
    public void swap(LaplacePosterior posterior, long version) throws CheckpointException {
        this.served = serve(posterior, version);
    }

    public long posteriorVersion() {
        return served.version();
    }

    public LaplacePosterior posterior() {
        return served.posterior();
    }

    public String taskId() {
        return served.posterior().info().task();
    }

    public ModelLoader.LoadedModel model() {
        return model;
    }

    public LoraAdapter adapter() {
        return adapter;
    }

    /** The task of the posterior in use (for a generic one, its answers). */
    public Task task() {
        return task != null ? task : Task.generic(served.posterior().info().answers(), model.tokenizer());
    }

    /** A labelled question's token ids, or {@link InvalidQuestionException} as for {@link #validate}. */
    public EncodedExample encode(Question q, int label) {
        return new EncodedExample(q.getId(), validate(q).encoded().tokens(), label);
    }

    /** Encodes a question, or throws {@link InvalidQuestionException} with the dead-letter reason. */
    public Valid validate(Question q) {
        TaskKind kind;
        try {
            kind = TaskKind.parse(q.getTask());
        } catch (IllegalArgumentException e) {
            throw new InvalidQuestionException(q.getId(), InvalidQuestionException.Reason.UNKNOWN_TASK, e.getMessage());
        }
        if (!kind.id().equals(taskId())) {
            throw new InvalidQuestionException(q.getId(), InvalidQuestionException.Reason.UNKNOWN_TASK,
                    "this scorer's posterior serves " + taskId() + ", not " + kind.id());
        }
        org.laplacelora.model.tasks.Question mq = new org.laplacelora.model.tasks.Question(q.getId(), kind, q.getText(),
                q.getChoices(), q.getContext(), q.getPrompt(), q.getAnswers());
        Task t = task;
        if (kind == TaskKind.GENERIC) {
            try {
                t = Task.generic(q.getAnswers(), model.tokenizer());
            } catch (IllegalArgumentException e) {
                throw new InvalidQuestionException(q.getId(), InvalidQuestionException.Reason.BAD_CHOICES, e.getMessage());
            }
            if (!Arrays.equals(t.answerIds(), served.posterior().info().answerIds())) {
                throw new InvalidQuestionException(q.getId(), InvalidQuestionException.Reason.BAD_CHOICES,
                        "answers " + q.getAnswers() + " are not the posterior's " + served.posterior().info().answers());
            }
        }
        int[] ids = t.encode(mq, model.tokenizer(), maxLength);
        return new Valid(q, new EncodedExample(q.getId(), ids, -1));
    }

    /** Scores a micro-batch; predictions in the batch's order. */
    public List<Prediction> score(List<Valid> batch, long startedAtMillis) {
        Served s = served;
        List<EncodedExample> encoded = batch.stream().map(Valid::encoded).toList();
        List<LaplacePredictor.Prediction> predictions = s.predictor().predict(encoded, model.tokenizer().bos(), manager);
        long now = System.currentTimeMillis();
        List<Prediction> out = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            Question q = batch.get(i).question();
            LaplacePredictor.Prediction p = predictions.get(i);
            int predicted = Calibration.argmax(p.laplace());
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
                    .setPosteriorVersion(s.version())
                    .setModel(model.llama().identity())
                    .setAdapter(adapter.identity())
                    .setQueueLatencyMs(Math.max(0, startedAtMillis - q.getProducedAt().toEpochMilli()))
                    .setComputeLatencyMs(now - startedAtMillis)
                    .setBatchSize(batch.size())
                    .setScoredAt(Instant.ofEpochMilli(now))
                    .build());
        }
        return out;
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
        adapter.close();
        manager.close();
        model.close();
    }

    /** Loads model, adapter and posterior from paths. */
    public static QuestionScorer load(java.nio.file.Path modelPath, java.nio.file.Path tokenizer, java.nio.file.Path adapterDir,
                                      java.nio.file.Path posteriorFile, String device, LinearisedPredictive predictive,
                                      int maxLength) throws IOException {
        LaplacePosterior posterior = LaplacePosterior.load(posteriorFile);
        ModelLoader.LoadedModel m = ModelLoader.load(modelPath, tokenizer, ModelLoader.device(device));
        NDManager manager = NDManager.newBaseManager(m.llama().device());
        try {
            LoraAdapter adapter = LoraAdapter.load(adapterDir, m.llama(), manager);
            return new QuestionScorer(m, adapter, manager, posterior, 0, predictive, maxLength);
        } catch (IOException | RuntimeException e) {
            manager.close();
            m.close();
            throw e;
        }
    }
}
