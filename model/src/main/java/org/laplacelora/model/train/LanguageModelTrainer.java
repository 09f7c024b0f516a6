package org.laplacelora.model.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.soabase.recordbuilder.core.RecordBuilder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.laplacelora.model.core.Autograd;
import org.laplacelora.model.core.CheckpointException;
import org.laplacelora.model.llama.Adaptation;
import org.laplacelora.model.llama.Llama;
import org.laplacelora.model.llama.LlamaConfig;
import org.laplacelora.model.llama.TokenBatch;

/**
 * Full-parameter language-model pre-training of a small LLaMA: next-token cross-entropy at every position of
 * windows cut from one token stream (nanoGPT's recipe: a window starts anywhere, so the texts are packed and
 * nothing is padded), AdamW with decoupled weight decay on the matrices only, a linear warm-up and a cosine decay
 * to a tenth of the rate. Deterministic on CPU for a seed.
 */
public final class LanguageModelTrainer {
    /**
     * @param sequenceLength tokens per window (the model reads sequenceLength, predicts each next one)
     * @param warmupSteps steps of the linear warm-up
     * @param evaluateEvery validation loss every this many steps (0: at the end only)
     */
    @RecordBuilder
    public record Settings(int sequenceLength, int batchSize, int steps, double learningRate, int warmupSteps, double weightDecay,
                           int evaluateEvery, long seed) implements LanguageModelTrainerSettingsBuilder.With {
        public Settings {
            if (sequenceLength < 2 || batchSize <= 0 || steps <= 0 || !(learningRate > 0) || warmupSteps < 0 || weightDecay < 0) {
                throw new IllegalArgumentException("need a sequence length ≥ 2, batch size, steps and learning rate > 0");
            }
        }

        /** Linear warm-up, then cosine decay to a tenth. */
        double learningRateAt(int step) {
            if (step < warmupSteps) {
                return learningRate * (step + 1) / warmupSteps;
            }
            double progress = (double) (step - warmupSteps) / Math.max(1, steps - warmupSteps);
            return learningRate * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * progress)));
        }
    }

    /** Mean next-token loss (nats) of the training batches of the last evaluation period, and of the validation stream. */
    public record Result(int steps, double trainLoss, double validationLoss, long tokens, double seconds) {}

    /** Called after every step; {@code validationLoss} is NaN except on evaluation steps. */
    public interface Listener {
        void onStep(int step, int totalSteps, double trainLoss, double validationLoss, double tokensPerSecond);
    }

    private LanguageModelTrainer() {}

    /**
     * A model of this shape with Hugging Face LLaMA's initialisation: every matrix N(0, 0.02²), the RMSNorm gains 1.
     * Its weights are ordinary tensors (not memory-mapped), so they can be trained in place.
     */
    public static Llama initialise(LlamaConfig c, long seed, NDManager manager) throws CheckpointException {
        Random r = new Random(seed);
        Map<String, NDArray> w = new LinkedHashMap<>();
        long d = c.hiddenSize();
        w.put("model.embed_tokens.weight", normal(r, manager, c.vocabSize(), d));
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            w.put(p + "input_layernorm.weight", manager.ones(new Shape(d)));
            w.put(p + "post_attention_layernorm.weight", manager.ones(new Shape(d)));
            w.put(p + "self_attn.q_proj.weight", normal(r, manager, c.queryDim(), d));
            w.put(p + "self_attn.k_proj.weight", normal(r, manager, c.kvDim(), d));
            w.put(p + "self_attn.v_proj.weight", normal(r, manager, c.kvDim(), d));
            w.put(p + "self_attn.o_proj.weight", normal(r, manager, d, c.queryDim()));
            w.put(p + "mlp.gate_proj.weight", normal(r, manager, c.intermediateSize(), d));
            w.put(p + "mlp.up_proj.weight", normal(r, manager, c.intermediateSize(), d));
            w.put(p + "mlp.down_proj.weight", normal(r, manager, d, c.intermediateSize()));
        }
        w.put("model.norm.weight", manager.ones(new Shape(d)));
        if (!c.tieWordEmbeddings()) {
            w.put(Llama.LM_HEAD + ".weight", normal(r, manager, c.vocabSize(), d));
        }
        return Llama.fromWeights(c, w, manager, "initialisation (seed " + seed + ")", "initialised:" + seed, List.of());
    }

    private static NDArray normal(Random r, NDManager manager, long rows, long cols) {
        float[] v = new float[Math.toIntExact(rows * cols)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (0.02 * r.nextGaussian());
        }
        return manager.create(v, new Shape(rows, cols));
    }

    /**
     * Trains every weight of the model in place on windows of {@code train}; {@code validation} is scored in
     * consecutive windows.
     */
    public static Result train(Llama llama, int[] train, int[] validation, Settings s, Listener listener) {
        int t = s.sequenceLength();
        if (train.length < t + 1) {
            throw new IllegalArgumentException("the training stream has " + train.length + " tokens, fewer than one window of "
                    + (t + 1));
        }
        if (t > llama.config().maxPositions()) {
            throw new IllegalArgumentException("windows of " + t + " tokens exceed the model's context of " + llama.config().maxPositions());
        }
        Engine.getInstance().setRandomSeed((int) s.seed());
        Random random = new Random(s.seed());
        List<NDArray> matrices = new ArrayList<>();
        List<NDArray> gains = new ArrayList<>();
        for (NDArray w : llama.weights().values()) {
            (w.getShape().dimension() == 2 ? matrices : gains).add(w);
            w.setRequiresGradient(true);
        }
        long start = System.nanoTime();
        long tokens = 0;
        double periodLoss = 0;
        int periodSteps = 0;
        double trainLoss = Double.NaN;
        double validationLoss = Double.NaN;
        try (NDManager manager = NDManager.newBaseManager(llama.device());
             AdamW decayed = new AdamW(matrices, s.weightDecay(), manager);
             AdamW undecayed = new AdamW(gains, 0, manager)) {
            for (int step = 0; step < s.steps(); step++) {
                List<int[]> windows = new ArrayList<>();
                for (int b = 0; b < s.batchSize(); b++) {
                    int from = random.nextInt(train.length - t);
                    windows.add(Arrays.copyOfRange(train, from, from + t + 1));
                }
                double loss;
                try (NDManager scope = manager.newSubManager();
                     GradientCollector gc = Autograd.collector()) {
                    NDArray objective = nextTokenLoss(llama, scope, windows);
                    gc.backward(objective);
                    loss = objective.toType(DataType.FLOAT64, false).getDouble();
                }
                if (!Double.isFinite(loss)) {
                    throw new MapTrainer.DivergedException(step + 1, loss);
                }
                double lr = s.learningRateAt(step);
                decayed.step(lr);
                undecayed.step(lr);
                tokens += (long) s.batchSize() * t;
                periodLoss += loss;
                periodSteps++;
                boolean evaluate = step + 1 == s.steps() || (s.evaluateEvery() > 0 && (step + 1) % s.evaluateEvery() == 0);
                double val = Double.NaN;
                if (evaluate) {
                    trainLoss = periodLoss / periodSteps;
                    periodLoss = 0;
                    periodSteps = 0;
                    val = validationLoss(llama, validation, s);
                    validationLoss = val;
                }
                listener.onStep(step + 1, s.steps(), loss, val, tokens / ((System.nanoTime() - start) / 1e9));
            }
        } finally {
            llama.weights().values().forEach(w -> w.setRequiresGradient(false));
        }
        return new Result(s.steps(), trainLoss, validationLoss, tokens, (System.nanoTime() - start) / 1e9);
    }

    /** Mean next-token NLL over every window (t + 1 tokens each): the model reads t, predicts tokens 1..t. */
    private static NDArray nextTokenLoss(Llama llama, NDManager scope, List<int[]> windows) {
        int t = windows.get(0).length - 1;
        List<int[]> inputs = new ArrayList<>();
        long[] targets = new long[windows.size() * t];
        for (int b = 0; b < windows.size(); b++) {
            int[] w = windows.get(b);
            inputs.add(Arrays.copyOf(w, t));
            for (int i = 0; i < t; i++) {
                targets[b * t + i] = w[i + 1];
            }
        }
        NDArray logits = llama.logits(scope, TokenBatch.leftPadded(inputs, 0), Adaptation.NONE);       // [B, T, V]
        NDArray logProbs = logits.reshape(-1, logits.getShape().get(2)).logSoftmax(1);                 // [B·T, V]
        return logProbs.gather(scope.create(targets).reshape(-1, 1), 1).neg().mean();
    }

    /** Mean next-token NLL over consecutive windows of the validation stream (NaN when it is shorter than one). */
    public static double validationLoss(Llama llama, int[] validation, Settings s) {
        int t = s.sequenceLength();
        List<int[]> windows = new ArrayList<>();
        for (int from = 0; from + t + 1 <= validation.length; from += t) {
            windows.add(Arrays.copyOfRange(validation, from, from + t + 1));
        }
        if (windows.isEmpty()) {
            return Double.NaN;
        }
        double sum = 0;
        try (NDManager manager = NDManager.newBaseManager(llama.device())) {
            for (int i = 0; i < windows.size(); i += s.batchSize()) {
                List<int[]> batch = windows.subList(i, Math.min(i + s.batchSize(), windows.size()));
                double[] loss = new double[1];
                try (NDManager scope = manager.newSubManager()) {
                    Autograd.withoutGraph(() -> loss[0] = nextTokenLoss(llama, scope, batch).toType(DataType.FLOAT64, false).getDouble());
                }
                sum += loss[0] * batch.size();
            }
        }
        return sum / windows.size();
    }
}
