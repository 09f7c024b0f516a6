package org.laplacelora.model.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.laplacelora.model.Fixtures;
import org.laplacelora.model.core.CheckpointException;
import org.laplacelora.model.llama.Adaptation;
import org.laplacelora.model.llama.Llama;
import org.laplacelora.model.llama.ModelLoader;
import org.laplacelora.model.llama.TokenBatch;

class LoraAdapterTest {
    private static final List<String> ALL_MODULES =
            List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "lm_head");
    private static ModelLoader.LoadedModel model;
    private static NDManager manager;

    @BeforeAll
    static void load() throws Exception {
        model = ModelLoader.load(Fixtures.stories260kBin(), Fixtures.tok512(), Device.cpu());
        manager = NDManager.newBaseManager(Device.cpu());
    }

    @AfterAll
    static void close() {
        manager.close();
        model.close();
    }

    private static TokenBatch someBatch() {
        return TokenBatch.leftPadded(List.of(new int[] {1, 403, 407, 261, 378}, new int[] {1, 291, 280}), 0);
    }

    @Test
    void loraWithZeroBGivesTheBaseModelsLogitsExactly() {
        Llama llama = model.llama();
        LoraConfig config = new LoraConfig(8, 16, 0.1, ALL_MODULES, "", false);
        try (LoraAdapter adapter = LoraAdapter.initialise(llama, config, 3, manager); NDManager m = manager.newSubManager()) {
            assertThat(adapter.modules()).hasSize(5 * 7 + 1);
            float[] base = llama.logits(m, someBatch(), Adaptation.NONE).toFloatArray();
            float[] adapted = llama.logits(m, someBatch(), LoraContext.eval(adapter)).toFloatArray();
            assertThat(adapted).containsExactly(base);
        }
    }

    @Test
    void pefAdapterWrittenAndReadBackIsIdentical(@TempDir Path dir) throws Exception {
        Llama llama = model.llama();
        LoraConfig config = new LoraConfig(4, 8, 0.05, List.of("q_proj", "v_proj", "lm_head"), "", false);
        try (LoraAdapter written = LoraAdapter.initialise(llama, config, 11, manager)) {
            for (LoraWeights w : written.modules().values()) {
                w.b().addi(manager.randomNormal(0f, 0.1f, w.b().getShape(), w.b().getDataType()));
            }
            written.save(dir);
            try (LoraAdapter read = LoraAdapter.load(dir, llama, manager)) {
                assertThat(read.config()).isEqualTo(written.config());
                assertThat(read.modules().keySet()).containsExactlyElementsOf(written.modules().keySet());
                for (String module : written.modules().keySet()) {
                    assertThat(read.weights(module).a().toFloatArray()).containsExactly(written.weights(module).a().toFloatArray());
                    assertThat(read.weights(module).b().toFloatArray()).containsExactly(written.weights(module).b().toFloatArray());
                }
                try (NDManager m = manager.newSubManager()) {
                    assertThat(llama.logits(m, someBatch(), LoraContext.eval(read)).toFloatArray())
                            .containsExactly(llama.logits(m, someBatch(), LoraContext.eval(written)).toFloatArray());
                }
            }
        }
        JsonNode config0 = new com.fasterxml.jackson.databind.ObjectMapper().readTree(dir.resolve("adapter_config.json").toFile());
        assertThat(config0.get("r").asInt()).isEqualTo(4);
        assertThat(config0.get("lora_alpha").asDouble()).isEqualTo(8);
        assertThat(config0.get("peft_type").asText()).isEqualTo("LORA");
    }

    /**
     * The reference cases' adapters were written by Python's safetensors; their answer logits are known in
     * float64. Case 2's lora_alpha = 1/16 (scale 1/64) checks that a non-integer alpha is read as written.
     */
    @ParameterizedTest
    @CsvSource({"case1, 2.0", "case2, 0.015625"})
    void referenceAdapterGivesTheReferenceAnswerLogits(String caseName, double scale) throws Exception {
        JsonNode c = Fixtures.json("laplace-" + caseName + "/" + caseName + ".json");
        int[] answers = Fixtures.ints(c.get("answer_tokens").get("ids"));
        for (Path checkpoint : List.of(Fixtures.stories260kBin(), Fixtures.path("stories260K/hf"))) {
            try (ModelLoader.LoadedModel m = ModelLoader.load(checkpoint, checkpoint.toString().endsWith(".bin") ? Fixtures.tok512() : null, Device.cpu());
                 LoraAdapter adapter = LoraAdapter.load(Fixtures.path("laplace-" + caseName + "/" + caseName + "_adapter"), m.llama(), manager);
                 NDManager scope = manager.newSubManager()) {
                assertThat(adapter.config().scale()).isEqualTo(scale);
                double worst = 0;
                for (String split : List.of("train", "test")) {
                    for (JsonNode ex : c.get(split)) {
                        float[] logits = m.llama().lastLogits(scope, TokenBatch.single(Fixtures.ints(ex.get("ids"))),
                                LoraContext.eval(adapter)).toFloatArray();
                        for (int k = 0; k < answers.length; k++) {
                            worst = Math.max(worst, Math.abs(logits[answers[k]] - ex.get("z").get(k).asDouble()));
                        }
                    }
                }
                assertThat(worst).as("answer logits vs float64 reference, %s", checkpoint).isLessThan(1e-4);
            }
        }
    }

    @Test
    void brokenAdaptersAreRefusedWithTheFileAndReason(@TempDir Path dir) throws Exception {
        Llama llama = model.llama();
        assertThatThrownBy(() -> LoraAdapter.load(dir, llama, manager))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("adapter_config.json");
        Path fixture = Fixtures.path("laplace-case1/case1_adapter");
        Files.copy(fixture.resolve("adapter_model.safetensors"), dir.resolve("adapter_model.safetensors"));
        Files.writeString(dir.resolve("adapter_config.json"),
                Files.readString(fixture.resolve("adapter_config.json")).replace("\"r\": 4", "\"r\": 8"));
        assertThatThrownBy(() -> LoraAdapter.load(dir, llama, manager))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("adapter_model.safetensors")
                .hasMessageContaining("has shape [4, 64]");
    }
}
