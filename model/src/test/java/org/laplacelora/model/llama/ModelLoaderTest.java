package org.laplacelora.model.llama;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.laplacelora.model.Fixtures;
import org.laplacelora.model.core.CheckpointException;

/** Loading errors name the file and what is wrong. */
class ModelLoaderTest {
    private static Path copyHf(Path dir) throws Exception {
        Path hf = Fixtures.path("stories260K/hf");
        for (String f : new String[] {"config.json", "model.safetensors", "tokenizer.json"}) {
            Files.copy(hf.resolve(f), dir.resolve(f));
        }
        return dir;
    }

    @Test
    void unknownArchitectureIsRefused(@TempDir Path dir) throws Exception {
        copyHf(dir);
        Path config = dir.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"model_type\": \"llama\"", "\"model_type\": \"gpt2\""));
        assertThatThrownBy(() -> ModelLoader.load(dir, null, Device.cpu()))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining(config.toString()).hasMessageContaining("unknown architecture: model_type \"gpt2\"");
    }

    @Test
    void aTensorThatDisagreesWithTheConfigIsNamed(@TempDir Path dir) throws Exception {
        copyHf(dir);
        Path config = dir.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"intermediate_size\": 172", "\"intermediate_size\": 128"));
        assertThatThrownBy(() -> ModelLoader.load(dir, null, Device.cpu()))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("tensor model.layers.0.mlp.gate_proj.weight has shape (172, 64), but the config implies (128, 64)");
    }

    @Test
    void missingShardsAndFilesAreNamed(@TempDir Path dir) throws Exception {
        Path sharded = Fixtures.path("stories260K/hf-sharded");
        for (String f : new String[] {"config.json", "model.safetensors.index.json", "model-00001-of-00002.safetensors", "tokenizer.json"}) {
            Files.copy(sharded.resolve(f), dir.resolve(f));
        }
        assertThatThrownBy(() -> ModelLoader.load(dir, null, Device.cpu()))
                .hasMessageContaining("lists shard model-00002-of-00002.safetensors, which is missing");
        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertThatThrownBy(() -> ModelLoader.load(empty, null, Device.cpu())).hasMessageContaining("no config.json");
    }

    @Test
    void aTokenizerLargerThanTheModelIsRefused(@TempDir Path dir) throws Exception {
        copyHf(dir);
        Path config = dir.resolve("config.json");
        // Shrink the model's vocabulary below the tokenizer's 512 pieces (the tensors then disagree too,
        // but the tokenizer check comes first and says what is wrong).
        Files.writeString(config, Files.readString(config).replace("\"vocab_size\": 512", "\"vocab_size\": 500"));
        assertThatThrownBy(() -> ModelLoader.load(dir, null, Device.cpu()))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("tokenizer has 512 tokens but the model").hasMessageContaining("only 500 embeddings");
    }

    @Test
    void aTruncatedLlama2cCheckpointIsRefused(@TempDir Path dir) throws Exception {
        Path bin = dir.resolve("model.bin");
        byte[] all = Files.readAllBytes(Fixtures.stories260kBin());
        Files.write(bin, java.util.Arrays.copyOf(all, all.length - 100));
        assertThatThrownBy(() -> ModelLoader.load(bin, Fixtures.tok512(), Device.cpu()))
                .hasMessageContaining("truncated or not a llama2.c version-0 checkpoint");
    }

    @Test
    void identityIsTheCheckpointsDigest() throws Exception {
        try (ModelLoader.LoadedModel m = ModelLoader.load(Fixtures.stories260kBin(), Fixtures.tok512(), Device.cpu())) {
            assertThat(m.llama().identity())
                    .isEqualTo("stories260K.bin sha256:b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696");
        }
    }
}
