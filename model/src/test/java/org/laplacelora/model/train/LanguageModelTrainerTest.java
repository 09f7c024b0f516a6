package org.laplacelora.model.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.laplacelora.model.FreedMemory;
import org.laplacelora.model.core.Autograd;
import org.laplacelora.model.llama.Adaptation;
import org.laplacelora.model.llama.HfCheckpoint;
import org.laplacelora.model.llama.Llama;
import org.laplacelora.model.llama.LlamaConfig;
import org.laplacelora.model.llama.ModelLoader;
import org.laplacelora.model.llama.TokenBatch;
import org.laplacelora.model.tokenizer.WordVocabulary;

class LanguageModelTrainerTest {
    private static final List<String> WORDS = List.of("one", "two", "three", "four", "five", "six", "seven", "eight", "nine");
    private static final LlamaConfig CONFIG = new LlamaConfig(32, 64, 1, 2, 2, 16, 12, 32, 1e-5, 10000.0, true, 1, 2);

    /** "one two ... nine" over and over: each next word follows from the last, so a model that learns gets near 0 nats. */
    private static int[] stream(int repeats) {
        List<Integer> ids = new ArrayList<>();
        for (int r = 0; r < repeats; r++) {
            for (int i = 0; i < WORDS.size(); i++) {
                ids.add(3 + i);
            }
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    private static LanguageModelTrainer.Settings settings(int steps) {
        return LanguageModelTrainerSettingsBuilder.builder().sequenceLength(16).batchSize(8).steps(steps).learningRate(1e-2)
                .warmupSteps(10).weightDecay(0.1).evaluateEvery(0).seed(3).build();
    }

    @Test
    void learnsTheNextTokenFromScratch() throws Exception {
        try (NDManager manager = NDManager.newBaseManager(Device.cpu());
             Llama llama = LanguageModelTrainer.initialise(CONFIG, 3, manager)) {
            double before = LanguageModelTrainer.validationLoss(llama, stream(10), settings(1));
            LanguageModelTrainer.Result r = LanguageModelTrainer.train(llama, stream(100), stream(10), settings(150),
                    (step, total, loss, val, rate) -> {});
            assertThat(before).as("an untrained model is near uniform over 12 tokens").isCloseTo(Math.log(12), org.assertj.core.data.Offset.offset(0.3));
            assertThat(r.validationLoss()).as("after 150 steps (from %.3f)", before).isLessThan(0.1);
            assertThat(r.tokens()).isEqualTo(150L * 8 * 16);
        }
    }

    @Test
    void trainingIsDeterministicForASeed() throws Exception {
        assertThat(trainedWeights(3)).containsExactly(trainedWeights(3));
        assertThat(trainedWeights(3)).isNotEqualTo(trainedWeights(4));
    }

    /** The token ids stay readable for the embedding's backward: a collection before it changes no gradient. */
    @Test
    void theEmbeddingsGradientIsTheSameWhenMemoryIsCollectedAndReusedBeforeTheBackward() throws Exception {
        assertThat(embeddingGradient(FreedMemory::collectAndOverwrite)).containsExactly(embeddingGradient(() -> {}));
    }

    private static float[] embeddingGradient(Runnable beforeTheBackward) throws Exception {
        try (NDManager manager = NDManager.newBaseManager(Device.cpu());
             Llama llama = LanguageModelTrainer.initialise(CONFIG, 3, manager)) {
            NDArray embedding = llama.weights().get("model.embed_tokens.weight");
            embedding.setRequiresGradient(true);
            int[] s = stream(2);
            TokenBatch batch = TokenBatch.leftPadded(List.of(Arrays.copyOf(s, 12), Arrays.copyOfRange(s, 3, 15)), 0);
            try (NDManager scope = manager.newSubManager();
                 GradientCollector gc = Autograd.collector()) {
                NDArray loss = llama.logits(scope, batch, Adaptation.NONE).logSoftmax(2).get(":, :, 5").sum();
                beforeTheBackward.run();
                gc.backward(loss);
            }
            float[] gradient = embedding.getGradient().toFloatArray();
            assertThat(gradient).as("the gradient reaches the embedding").isNotEqualTo(new float[gradient.length]);
            return gradient;
        }
    }

    private static float[] trainedWeights(long seed) throws Exception {
        try (NDManager manager = NDManager.newBaseManager(Device.cpu());
             Llama llama = LanguageModelTrainer.initialise(CONFIG, 3, manager)) {
            LanguageModelTrainer.train(llama, stream(50), stream(5), settings(5).withSeed(seed), (step, total, loss, val, rate) -> {});
            return llama.weights().get("model.layers.0.self_attn.q_proj.weight").toFloatArray();
        }
    }

    /** What pretrain writes is an ordinary Hugging Face directory: loaded back, it gives the trained model's logits. */
    @Test
    void aWrittenModelLoadsBackWithTheSameLogits(@TempDir Path dir) throws Exception {
        try (NDManager manager = NDManager.newBaseManager(Device.cpu());
             Llama llama = LanguageModelTrainer.initialise(CONFIG, 3, manager)) {
            LanguageModelTrainer.train(llama, stream(50), stream(5), settings(20), (step, total, loss, val, rate) -> {});
            HfCheckpoint.write(dir, llama);
            new WordVocabulary(WORDS, WordVocabulary.Split.WHITESPACE).write(dir);
            TokenBatch batch = TokenBatch.leftPadded(List.of(new int[] {1, 3, 4, 5}, new int[] {1, 7}), 0);
            float[] expected = llama.logits(manager, batch, Adaptation.NONE).toFloatArray();
            try (ModelLoader.LoadedModel loaded = ModelLoader.load(dir, null, Device.cpu())) {
                assertThat(loaded.llama().config()).isEqualTo(CONFIG);
                assertThat(loaded.tokenizer().encode("one two", true, false)).containsExactly(1, 3, 4);
                NDArray logits = loaded.llama().logits(manager, batch, Adaptation.NONE);
                assertThat(logits.toFloatArray()).containsExactly(expected, org.assertj.core.data.Offset.offset(1e-5f));
            }
        }
    }
}
