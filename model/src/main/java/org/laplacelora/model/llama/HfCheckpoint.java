package org.laplacelora.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.laplacelora.model.core.CheckpointException;
import org.laplacelora.model.io.Safetensors;

/**
 * A Hugging Face model directory: {@code config.json} plus {@code model.safetensors}, or shards listed
 * in {@code model.safetensors.index.json}. Weights may be float32, float16 or bfloat16; all compute is
 * float32. Float32 weights stay memory-mapped.
 */
public final class HfCheckpoint {
    static final String CONFIG = "config.json";
    static final String SINGLE = "model.safetensors";
    static final String INDEX = "model.safetensors.index.json";
    private static final Set<String> ARCHITECTURES = Set.of("llama", "mistral");
    private static final ObjectMapper JSON = new ObjectMapper();

    private HfCheckpoint() {}

    public static boolean isHfDirectory(Path dir) {
        return Files.isDirectory(dir) && Files.isRegularFile(dir.resolve(CONFIG));
    }

    public static LlamaConfig readConfig(Path dir) throws IOException {
        Path file = dir.resolve(CONFIG);
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(dir + ": no " + CONFIG + " (a Hugging Face model directory needs one)");
        }
        JsonNode c;
        try {
            c = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new CheckpointException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        String type = c.path("model_type").asText("");
        if (!ARCHITECTURES.contains(type)) {
            throw new CheckpointException(file + ": unknown architecture: model_type \"" + type + "\" (architectures "
                    + c.path("architectures") + "); supported: LLaMA-family decoders with model_type " + ARCHITECTURES);
        }
        unsupportedIf(file, c.path("attention_bias").asBoolean(false), "attention_bias true");
        unsupportedIf(file, c.path("mlp_bias").asBoolean(false), "mlp_bias true");
        String act = c.path("hidden_act").asText("silu");
        unsupportedIf(file, !act.equals("silu"), "hidden_act \"" + act + "\" (only silu / SwiGLU)");
        JsonNode scaling = c.path("rope_scaling");
        unsupportedIf(file, !scaling.isMissingNode() && !scaling.isNull(), "rope_scaling " + scaling);
        JsonNode window = c.path("sliding_window");
        unsupportedIf(file, window.isNumber() && window.asInt() < c.path("max_position_embeddings").asInt(0),
                "sliding_window " + window + " shorter than the context");

        int hidden = required(file, c, "hidden_size");
        int heads = required(file, c, "num_attention_heads");
        try {
            return new LlamaConfig(
                    hidden,
                    required(file, c, "intermediate_size"),
                    required(file, c, "num_hidden_layers"),
                    heads,
                    c.path("num_key_value_heads").asInt(heads),
                    c.hasNonNull("head_dim") ? c.get("head_dim").asInt() : hidden / heads,
                    required(file, c, "vocab_size"),
                    c.path("max_position_embeddings").asInt(2048),
                    c.path("rms_norm_eps").asDouble(1e-6),
                    c.path("rope_theta").asDouble(10000.0),
                    c.path("tie_word_embeddings").asBoolean(false),
                    c.path("bos_token_id").asInt(1),
                    firstInt(c.path("eos_token_id"), 2));
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file + ": " + e.getMessage(), e);
        }
    }

    private static int firstInt(JsonNode n, int fallback) {
        if (n.isArray() && n.size() > 0) {
            return n.get(0).asInt();
        }
        return n.isNumber() ? n.asInt() : fallback;
    }

    private static int required(Path file, JsonNode c, String field) throws CheckpointException {
        if (!c.path(field).isNumber()) {
            throw new CheckpointException(file + ": missing or non-numeric field \"" + field + "\"");
        }
        return c.get(field).asInt();
    }

    private static void unsupportedIf(Path file, boolean condition, String what) throws CheckpointException {
        if (condition) {
            throw new CheckpointException(file + ": unsupported LLaMA variant: " + what);
        }
    }

    /** The safetensors files of the checkpoint, from the shard index when there is one. */
    public static List<Path> weightFiles(Path dir) throws IOException {
        Path single = dir.resolve(SINGLE);
        Path index = dir.resolve(INDEX);
        if (Files.isRegularFile(index)) {
            JsonNode map = JSON.readTree(index.toFile()).path("weight_map");
            if (!map.isObject() || map.isEmpty()) {
                throw new CheckpointException(index + ": no weight_map");
            }
            List<Path> shards = new ArrayList<>();
            for (Iterator<JsonNode> it = map.elements(); it.hasNext(); ) {
                Path shard = dir.resolve(it.next().asText());
                if (!shards.contains(shard)) {
                    if (!Files.isRegularFile(shard)) {
                        throw new CheckpointException(index + " lists shard " + shard.getFileName() + ", which is missing");
                    }
                    shards.add(shard);
                }
            }
            return shards;
        }
        if (Files.isRegularFile(single)) {
            return List.of(single);
        }
        throw new CheckpointException(dir + ": no " + SINGLE + " and no " + INDEX);
    }

    /** Writes {@code config.json} for a LLaMA of this shape, float32, which {@link #readConfig} reads back. */
    public static void writeConfig(Path dir, LlamaConfig c) throws IOException {
        Files.createDirectories(dir);
        com.fasterxml.jackson.databind.node.ObjectNode config = JSON.createObjectNode();
        config.putArray("architectures").add("LlamaForCausalLM");
        config.put("model_type", "llama");
        config.put("hidden_size", c.hiddenSize());
        config.put("intermediate_size", c.intermediateSize());
        config.put("num_hidden_layers", c.numLayers());
        config.put("num_attention_heads", c.numHeads());
        config.put("num_key_value_heads", c.numKvHeads());
        config.put("head_dim", c.headDim());
        config.put("vocab_size", c.vocabSize());
        config.put("max_position_embeddings", c.maxPositions());
        config.put("rms_norm_eps", c.rmsNormEps());
        config.put("rope_theta", c.ropeTheta());
        config.put("hidden_act", "silu");
        config.put("tie_word_embeddings", c.tieWordEmbeddings());
        config.put("bos_token_id", c.bosTokenId());
        config.put("eos_token_id", c.eosTokenId());
        config.put("torch_dtype", "float32");
        JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve(CONFIG).toFile(), config);
    }

    /** Writes the model as {@code config.json} and {@code model.safetensors} (float32, Hugging Face names). */
    public static void write(Path dir, Llama llama) throws IOException {
        writeConfig(dir, llama.config());
        Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
        llama.weights().forEach((name, w) -> tensors.put(name, Safetensors.Tensor.of(w)));
        Safetensors.write(dir.resolve(SINGLE), tensors, Map.of("format", "pt"));
    }

    public static Llama load(Path dir, NDManager manager, String identity) throws IOException {
        LlamaConfig config = readConfig(dir);
        Map<String, NDArray> weights = new HashMap<>();
        Map<String, Path> origin = new LinkedHashMap<>();
        List<Object> backing = new ArrayList<>();
        for (Path shard : weightFiles(dir)) {
            Safetensors st = Safetensors.open(shard);
            backing.add(st);
            for (String name : st.names()) {
                if (origin.containsKey(name)) {
                    throw new CheckpointException(shard + ": tensor " + name + " also appears in " + origin.get(name));
                }
                origin.put(name, shard);
                weights.put(name, st.loadFloat32(manager, name));
            }
        }
        if (!manager.getDevice().equals(ai.djl.Device.cpu())) {
            backing.clear(); // weights were copied to the device; the mappings can go
        }
        return Llama.fromWeights(config, weights, manager, dir.toString(), identity, backing);
    }
}
