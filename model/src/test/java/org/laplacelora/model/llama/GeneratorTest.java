package org.laplacelora.model.llama;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.laplacelora.model.Fixtures;

class GeneratorTest {
    private static ModelLoader.LoadedModel model;

    @BeforeAll
    static void load() throws Exception {
        model = ModelLoader.load(Fixtures.stories260kBin(), Fixtures.tok512(), Device.cpu());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void greedyGenerationReproducesRunC() {
        Generator generator = new Generator(model.llama(), Adaptation.NONE);
        for (JsonNode c : Fixtures.json("stories260K/greedy.json").get("cases")) {
            int[] prompt = model.tokenizer().encode(c.get("prompt").asText(), true, false);
            assertThat(prompt).containsExactly(Fixtures.ints(c.get("prompt_tokens")));
            // run.c's -n 40 counts forward calls including the prompt's: 41 - |prompt| new tokens.
            int newTokens = c.get("tokens").size() - prompt.length;
            List<Integer> streamed = new ArrayList<>();
            int[] tokens = generator.generate(prompt, newTokens, 0, 0, streamed::add);
            assertThat(tokens).containsExactly(Fixtures.ints(c.get("tokens")));
            assertThat(streamed).containsExactlyElementsOf(Arrays.stream(Fixtures.ints(c.get("generated"))).boxed().toList());
            assertThat(model.tokenizer().decode(tokens)).isEqualTo(c.get("text").asText());
        }
    }

    @Test
    void cachedStepsGiveTheFullForwardsLogits() {
        Llama llama = model.llama();
        int[] tokens = Fixtures.ints(Fixtures.json("stories260K/greedy.json").get("cases").get(1).get("tokens"));
        try (NDManager m = NDManager.newBaseManager(Device.cpu()); KvCache cache = llama.newCache(m)) {
            float[] full = llama.logits(m, TokenBatch.single(tokens), Adaptation.NONE).toFloatArray();
            int v = llama.config().vocabSize();
            double worst = 0;
            float[] first = llama.step(m, cache, Arrays.copyOf(tokens, 3), Adaptation.NONE).toFloatArray();
            for (int i = 0; i < v; i++) {
                worst = Math.max(worst, Math.abs(first[i] - full[2 * v + i]));
            }
            for (int pos = 3; pos < tokens.length; pos++) {
                float[] step = llama.step(m, cache, new int[] {tokens[pos]}, Adaptation.NONE).toFloatArray();
                for (int i = 0; i < v; i++) {
                    worst = Math.max(worst, Math.abs(step[i] - full[pos * v + i]));
                }
            }
            assertThat(cache.length()).isEqualTo(tokens.length);
            assertThat(worst).isLessThan(2e-5);
        }
    }

    @Test
    void samplingIsSeededAndStopsAtTheContext() {
        Generator generator = new Generator(model.llama(), Adaptation.NONE);
        int[] a = generator.generate(new int[] {1}, 30, 1.0, 42, t -> {});
        int[] b = generator.generate(new int[] {1}, 30, 1.0, 42, t -> {});
        assertThat(a).containsExactly(b);
        int[] longRun = generator.generate(new int[] {1}, 10_000, 0, 0, t -> {});
        assertThat(longRun.length).isLessThanOrEqualTo(model.llama().config().maxPositions());
    }
}
