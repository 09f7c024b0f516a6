package org.laplacelora.model.synthetic;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.laplacelora.model.io.Safetensors;
import org.laplacelora.model.llama.HfCheckpoint;
import org.laplacelora.model.llama.LlamaConfig;
import org.laplacelora.model.tokenizer.WordVocabulary;

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
        WordVocabulary vocabulary = new WordVocabulary(words, WordVocabulary.Split.WHITESPACE);
        int v = vocabulary.size();
        int hd = s.hidden() / s.heads();
        HfCheckpoint.writeConfig(dir, new LlamaConfig(s.hidden(), s.intermediate(), s.layers(), s.heads(), s.kvHeads(), hd, v,
                s.maxPositions(), 1e-5, 10000.0, true, 1, 2));

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
        vocabulary.write(dir);
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
