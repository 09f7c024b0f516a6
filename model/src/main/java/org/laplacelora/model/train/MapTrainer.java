package org.laplacelora.model.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
import io.soabase.recordbuilder.core.RecordBuilder;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.laplacelora.model.core.Autograd;
import org.laplacelora.model.core.Tensors;
import org.laplacelora.model.llama.Llama;
import org.laplacelora.model.llama.TokenBatch;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.lora.LoraContext;
import org.laplacelora.model.tasks.EncodedExample;

/**
 * MAP fine-tuning of a LoRA adapter as the paper does it: cross-entropy of the C answer logits at the
 * last position (not the LM loss), batch mean, AdamW with linear decay to 0 and no warm-up, LoRA
 * dropout on. Deterministic on CPU for a given seed (shuffling and dropout are seeded).
 */
public final class MapTrainer {
    /**
     * @param steps total optimiser steps (if 0, {@code epochs} × ⌈N / batch⌉)
     * @param checkpointEvery write the adapter to {@code checkpoint-<step>} every this many steps (0: never)
     */
    @RecordBuilder
    public record Settings(double learningRate, double weightDecay, int batchSize, int steps, int epochs, long seed,
                           int checkpointEvery, int padId) {
        public Settings {
            if (!(learningRate > 0) || batchSize <= 0 || (steps <= 0 && epochs <= 0) || weightDecay < 0) {
                throw new IllegalArgumentException("need lr > 0, batch size > 0, steps or epochs > 0, weight decay ≥ 0");
            }
        }

        public int totalSteps(int examples) {
            return steps > 0 ? steps : epochs * ((examples + batchSize - 1) / batchSize);
        }
    }

    /** The loss of a step was not finite: the weights are not updated with its gradient and training stops. */
    public static final class DivergedException extends IllegalStateException {
        public DivergedException(int step, double loss) {
            super(String.format("training diverged: the loss at step %d is %s", step, loss));
        }
    }

    /** Called after every step. */
    public interface Listener {
        void onStep(int step, int totalSteps, double loss, double examplesPerSecond);

        default void onCheckpoint(int step, Path dir) {}
    }

    /**
     * A Gaussian prior on the adapter's weights, as the penalty −log prior (up to a constant) of the weights
     * now: a differentiable scalar, a sum over the whole parameter vector (not a mean).
     */
    public interface Prior {
        NDArray penalty(LoraAdapter adapter, NDManager scope);
    }

    /** Training loss over the run ({@link MapTrainer#accuracy} measures the adapter afterwards, for a caller that wants it). */
    public record Result(int steps, double finalEpochLoss, List<Double> epochLosses) {}

    private final Llama llama;
    private final LoraAdapter adapter;
    private final int[] answerIds;
    private final Prior prior;

    public MapTrainer(Llama llama, LoraAdapter adapter, int[] answerIds) {
        this(llama, adapter, answerIds, null);
    }

    private MapTrainer(Llama llama, LoraAdapter adapter, int[] answerIds, Prior prior) {
        this.llama = llama;
        this.adapter = adapter;
        this.answerIds = answerIds.clone();
        this.prior = prior;
    }

    /**
     * The MAP under a prior instead of the paper's fine-tuning: each step minimises the batch's mean NLL plus
     * penalty / N (N the training set's size: the data term sums over N examples, the prior counts once), with
     * LoRA dropout off, since the prior's curvature was measured without it.
     */
    public MapTrainer withPrior(Prior p) {
        return new MapTrainer(llama, adapter, answerIds, p);
    }

    public Result train(List<EncodedExample> train, Settings s, Path checkpointRoot, Listener listener) throws IOException {
        if (train.isEmpty()) {
            throw new IllegalArgumentException("no training examples");
        }
        for (EncodedExample e : train) {
            if (e.label() < 0 || e.label() >= answerIds.length) {
                throw new IllegalArgumentException("training example " + e.id() + " has no usable label (" + e.label() + ")");
            }
        }
        Engine.getInstance().setRandomSeed((int) s.seed());
        Random random = new Random(s.seed());
        int total = s.totalSteps(train.size());
        List<EncodedExample> order = new ArrayList<>(train);
        List<Double> epochLosses = new ArrayList<>();
        adapter.setRequiresGradient(true);
        double epochLoss = 0;
        int epochBatches = 0;
        int cursor = order.size();
        long start = System.nanoTime();
        long seen = 0;
        try (NDManager manager = NDManager.newBaseManager(llama.device());
             AdamW optimiser = new AdamW(adapter.parameters(), s.weightDecay(), manager)) {
            NDArray answers = manager.create(Tensors.toLongs(answerIds));
            for (int step = 0; step < total; step++) {
                if (cursor >= order.size()) {
                    if (epochBatches > 0) {
                        epochLosses.add(epochLoss / epochBatches);
                    }
                    Collections.shuffle(order, random);
                    cursor = 0;
                    epochLoss = 0;
                    epochBatches = 0;
                }
                List<EncodedExample> batch = order.subList(cursor, Math.min(cursor + s.batchSize(), order.size()));
                cursor += batch.size();
                double loss;
                try (NDManager scope = manager.newSubManager();
                     GradientCollector gc = Autograd.collector()) {
                    TokenBatch tokens = TokenBatch.leftPadded(batch.stream().map(EncodedExample::tokens).toList(), s.padId());
                    LoraContext context = prior == null ? LoraContext.train(adapter) : LoraContext.eval(adapter);
                    NDArray z = llama.lastLogits(scope, tokens, context).get(new NDIndex(":, {}", answers));
                    NDArray labels = scope.create(batch.stream().mapToLong(EncodedExample::label).toArray()).reshape(-1, 1);
                    NDArray objective = z.logSoftmax(1).gather(labels, 1).neg().mean();
                    if (prior != null) {
                        objective = objective.add(Tensors.times(prior.penalty(adapter, scope), 1.0 / train.size()));
                    }
                    gc.backward(objective);
                    loss = objective.toType(ai.djl.ndarray.types.DataType.FLOAT64, false).getDouble();
                }
                if (!Double.isFinite(loss)) {
                    throw new DivergedException(step + 1, loss);
                }
                double lr = s.learningRate() * (1 - (double) step / total);   // linear decay to 0, no warm-up
                optimiser.step(lr);
                seen += batch.size();
                epochLoss += loss;
                epochBatches++;
                listener.onStep(step + 1, total, loss, seen / ((System.nanoTime() - start) / 1e9));
                if (s.checkpointEvery() > 0 && (step + 1) % s.checkpointEvery() == 0 && step + 1 < total && checkpointRoot != null) {
                    Path dir = checkpointRoot.resolve("checkpoint-" + (step + 1));
                    adapter.save(dir);
                    listener.onCheckpoint(step + 1, dir);
                }
            }
        } finally {
            adapter.setRequiresGradient(false);
        }
        if (epochBatches > 0) {
            epochLosses.add(epochLoss / epochBatches);
        }
        return new Result(total, epochLosses.get(epochLosses.size() - 1), epochLosses);
    }

    /** Accuracy of the adapter (eval mode) on examples. */
    public double accuracy(List<EncodedExample> examples, int batchSize, int padId) {
        int correct = 0;
        try (NDManager manager = NDManager.newBaseManager(llama.device())) {
            NDArray answers = manager.create(Tensors.toLongs(answerIds));
            for (int i = 0; i < examples.size(); i += batchSize) {
                List<EncodedExample> batch = examples.subList(i, Math.min(i + batchSize, examples.size()));
                try (NDManager scope = manager.newSubManager()) {
                    TokenBatch tokens = TokenBatch.leftPadded(batch.stream().map(EncodedExample::tokens).toList(), padId);
                    long[] predicted = llama.lastLogits(scope, tokens, LoraContext.eval(adapter))
                            .get(new NDIndex(":, {}", answers)).argMax(1).toLongArray();
                    for (int k = 0; k < batch.size(); k++) {
                        correct += predicted[k] == batch.get(k).label() ? 1 : 0;
                    }
                }
            }
        }
        return (double) correct / examples.size();
    }
}
