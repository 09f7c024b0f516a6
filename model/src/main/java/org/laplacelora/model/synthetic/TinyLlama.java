package org.laplacelora.model.synthetic;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.laplacelora.model.io.Safetensors;

/**
 * Writes a small LLaMA as a Hugging Face directory — config.json, model.safetensors with random weights
 * from a fixed seed, and a word-level tokenizer.json — so the demo needs nothing downloaded.
 */
public final class TinyLlama {
    public record Shape(int hidden, int intermediate, int layers, int heads, int kvHeads, int maxPositions) {
        public static Shape demo() {
            return new Shape(64, 128, 2, 4, 2, 64);
        }
    }

    private TinyLlama() {}

    public static void write(Path dir, List<String> words, Shape s, long seed) throws IOException {
        Files.createDirectories(dir);
        ObjectMapper json = new ObjectMapper();
        // Vocabulary: <unk>, <s>, </s>, then the words.
        Map<String, Integer> vocab = new LinkedHashMap<>();
        vocab.put("<unk>", 0);
        vocab.put("<s>", 1);
        vocab.put("</s>", 2);
        for (String w : words) {
            vocab.putIfAbsent(w, vocab.size());
        }
        int v = vocab.size();
        int hd = s.hidden() / s.heads();
        ObjectNode config = json.createObjectNode();
        config.putArray("architectures").add("LlamaForCausalLM");
        config.put("model_type", "llama");
        config.put("hidden_size", s.hidden());
        config.put("intermediate_size", s.intermediate());
        config.put("num_hidden_layers", s.layers());
        config.put("num_attention_heads", s.heads());
        config.put("num_key_value_heads", s.kvHeads());
        config.put("head_dim", hd);
        config.put("vocab_size", v);
        config.put("max_position_embeddings", s.maxPositions());
        config.put("rms_norm_eps", 1e-5);
        config.put("rope_theta", 10000.0);
        config.put("hidden_act", "silu");
        config.put("tie_word_embeddings", true);
        config.put("bos_token_id", 1);
        config.put("eos_token_id", 2);
        config.put("torch_dtype", "float32");
        json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), config);

        Random r = new Random(seed);
        Map<String, Safetensors.Tensor> t = new LinkedHashMap<>();
        t.put("model.embed_tokens.weight", gaussian(r, new long[] {v, s.hidden()}, 1.0));
        for (int l = 0; l < s.layers(); l++) {
            String p = "model.layers." + l + ".";
            t.put(p + "input_layernorm.weight", ones(s.hidden()));
            t.put(p + "post_attention_layernorm.weight", ones(s.hidden()));
            t.put(p + "self_attn.q_proj.weight", linear(r, s.heads() * hd, s.hidden()));
            t.put(p + "self_attn.k_proj.weight", linear(r, s.kvHeads() * hd, s.hidden()));
            t.put(p + "self_attn.v_proj.weight", linear(r, s.kvHeads() * hd, s.hidden()));
            t.put(p + "self_attn.o_proj.weight", linear(r, s.hidden(), s.heads() * hd));
            t.put(p + "mlp.gate_proj.weight", linear(r, s.intermediate(), s.hidden()));
            t.put(p + "mlp.up_proj.weight", linear(r, s.intermediate(), s.hidden()));
            t.put(p + "mlp.down_proj.weight", linear(r, s.hidden(), s.intermediate()));
        }
        t.put("model.norm.weight", ones(s.hidden()));
        Safetensors.write(dir.resolve("model.safetensors"), t, Map.of("format", "pt"));

        ObjectNode tok = json.createObjectNode();
        tok.put("version", "1.0");
        ArrayNode added = tok.putArray("added_tokens");
        for (String special : List.of("<unk>", "<s>", "</s>")) {
            added.addObject().put("id", vocab.get(special)).put("content", special).put("single_word", false).put("lstrip", false)
                    .put("rstrip", false).put("normalized", false).put("special", true);
        }
        tok.putNull("normalizer");
        tok.putObject("pre_tokenizer").put("type", "WhitespaceSplit");
        tok.putNull("post_processor");
        tok.putObject("decoder").put("type", "WordPiece").put("prefix", "##").put("cleanup", false);
        ObjectNode model = tok.putObject("model");
        model.put("type", "WordLevel");
        model.put("unk_token", "<unk>");
        ObjectNode vn = model.putObject("vocab");
        vocab.forEach(vn::put);
        json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("tokenizer.json").toFile(), tok);
    }

    /** N(0, 1/in): keeps activations at unit scale through the random network. */
    private static Safetensors.Tensor linear(Random r, int out, int in) {
        return gaussian(r, new long[] {out, in}, 1 / Math.sqrt(in));
    }

    private static Safetensors.Tensor gaussian(Random r, long[] shape, double std) {
        float[] w = new float[(int) (shape[0] * shape[1])];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (r.nextGaussian() * std);
        }
        return Safetensors.Tensor.f32(shape, w);
    }

    private static Safetensors.Tensor ones(int n) {
        float[] w = new float[n];
        java.util.Arrays.fill(w, 1f);
        return Safetensors.Tensor.f32(new long[] {n}, w);
    }
}
