package org.laplacelora.model.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.OptionalInt;
import org.laplacelora.model.core.CheckpointException;

/**
 * A Hugging Face {@code tokenizer.json} run by DJL's binding of the Rust tokenizers library, with
 * truncation and padding off. BOS and EOS are added here, from the model's config, so every
 * tokenizer in the project behaves the same way.
 */
public final class HfTokenizer implements Tokenizer {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HuggingFaceTokenizer tokenizer;
    private final Map<String, Integer> vocab;
    private final boolean byteLevel;
    private final int vocabSize;
    private final int bos;
    private final int eos;

    private HfTokenizer(HuggingFaceTokenizer tokenizer, Map<String, Integer> vocab, boolean byteLevel, int bos, int eos) {
        this.tokenizer = tokenizer;
        this.vocab = vocab;
        this.byteLevel = byteLevel;
        this.vocabSize = vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        this.bos = bos;
        this.eos = eos;
    }

    /** Loads {@code tokenizer.json} (or a directory holding it). */
    public static HfTokenizer load(Path path, int bos, int eos) throws IOException {
        Path file = Files.isDirectory(path) ? path.resolve("tokenizer.json") : path;
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(file + ": tokenizer.json not found");
        }
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new CheckpointException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        Map<String, Integer> vocab = new HashMap<>();
        JsonNode v = root.path("model").path("vocab");
        if (!v.isObject()) {
            throw new CheckpointException(file + ": no model.vocab object; not a tokenizer.json this project can read");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            vocab.put(e.getKey(), e.getValue().asInt());
        }
        for (JsonNode added : root.path("added_tokens")) {
            vocab.putIfAbsent(added.path("content").asText(), added.path("id").asInt());
        }
        boolean byteLevel = root.toString().contains("\"ByteLevel\"");
        HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(file,
                Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false"));
        return new HfTokenizer(hf, vocab, byteLevel, bos, eos);
    }

    @Override
    public int[] encode(String text, boolean addBos, boolean addEos) {
        long[] body = text.isEmpty() ? new long[0] : tokenizer.encode(text, false, false).getIds();
        int n = body.length + (addBos ? 1 : 0) + (addEos ? 1 : 0);
        int[] out = new int[n];
        int k = 0;
        if (addBos) {
            out[k++] = bos;
        }
        for (long id : body) {
            out[k++] = Math.toIntExact(id);
        }
        if (addEos) {
            out[k] = eos;
        }
        return out;
    }

    @Override
    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            l[i] = ids[i];
        }
        return tokenizer.decode(l, true);
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public int bos() {
        return bos;
    }

    @Override
    public int eos() {
        return eos;
    }

    @Override
    public OptionalInt pieceId(String text) {
        Integer id = vocab.get(byteLevel ? byteLevelForm(text) : text.replace(' ', '\u2581'));
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** GPT-2's byte-to-unicode map: printable bytes stand for themselves, the rest shift to U+0100 and up. */
    private static String byteLevelForm(String text) {
        StringBuilder sb = new StringBuilder();
        for (byte raw : text.getBytes(StandardCharsets.UTF_8)) {
            int b = raw & 0xFF;
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            if (printable) {
                sb.append((char) b);
            } else {
                int shift = 0;
                for (int c = 0; c < b; c++) {
                    boolean p = (c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE && c <= 0xFF);
                    shift += p ? 0 : 1;
                }
                sb.append((char) (256 + shift));
            }
        }
        return sb.toString();
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
