package org.laplacelora.model.llama;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.laplacelora.model.Fixtures;

/**
 * Logits at every position against llama2.c's own run.c (float32), for the llama2.c checkpoint and for
 * every Hugging Face export of the same weights. {@code -Dlaplace.lora.test.device=gpu} runs it on a GPU
 * (streams/scripts/gpu-check.sh).
 */
class ReferenceLogitsTest {
    private static NDManager manager;

    private static final Device DEVICE = ModelLoader.device(System.getProperty("laplace.lora.test.device", "cpu"));

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager(DEVICE);
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    static Stream<Arguments> checkpoints() {
        return Stream.of(
                Arguments.of("llama2.c", Fixtures.stories260kBin(), Fixtures.tok512(), 1e-4),
                Arguments.of("hf f32", Fixtures.path("stories260K/hf"), null, 1e-4),
                Arguments.of("hf sharded", Fixtures.path("stories260K/hf-sharded"), null, 1e-4),
                // Rounding the weights costs accuracy; the fixture's float64 oracle saw 2.0e-2 and 1.3e-1.
                Arguments.of("hf f16", Fixtures.path("stories260K/hf-f16"), null, 3e-2),
                Arguments.of("hf bf16", Fixtures.path("stories260K/hf-bf16"), null, 2e-1));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("checkpoints")
    void logitsAtEveryPositionMatchRunC(String label, Path model, Path tokenizer, double tolerance) throws Exception {
        JsonNode ref = Fixtures.json("stories260K/reference.json");
        try (ModelLoader.LoadedModel m = ModelLoader.load(model, tokenizer, DEVICE);
             NDManager scope = manager.newSubManager()) {
            double worst = 0;
            for (JsonNode c : ref.get("cases")) {
                int[] tokens = Fixtures.ints(c.get("tokens"));
                assertThat(m.tokenizer().encode(c.get("prompt").asText(), true, false))
                        .as("token ids of %s", c.get("prompt")).containsExactly(tokens);
                NDArray logits = m.llama().logits(scope, TokenBatch.single(tokens), Adaptation.NONE);
                float[] got = logits.toFloatArray();
                int v = m.llama().config().vocabSize();
                for (int pos = 0; pos < tokens.length; pos++) {
                    float[] want = Fixtures.floats(c.get("logits").get(pos));
                    for (int i = 0; i < v; i++) {
                        worst = Math.max(worst, Math.abs(got[pos * v + i] - want[i]));
                    }
                }
            }
            System.out.printf("%s on %s: max |logit - run.c| = %.3g%n", label, DEVICE, worst);
            assertThat(worst).as("max |logit - run.c| for %s", label).isLessThanOrEqualTo(tolerance);
        }
    }
}
