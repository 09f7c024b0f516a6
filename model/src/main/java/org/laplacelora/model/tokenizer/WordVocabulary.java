package org.laplacelora.model.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A word-level vocabulary written as a Hugging Face {@code tokenizer.json} (model {@code WordLevel}, unknown words
 * to {@code <unk>}), which {@link HfTokenizer} reads like any other. Ids: {@code <unk>} 0, {@code <s>} 1,
 * {@code </s>} 2, then the words.
 *
 * @param words the words after the three special tokens, in id order
 * @param split how text is cut into words (the tokenizer.json's normalizer and pre-tokenizer)
 */
public record WordVocabulary(List<String> words, Split split) {
    public static final List<String> SPECIALS = List.of("<unk>", "<s>", "</s>");

    /** How text becomes words. */
    public enum Split {
        /** At whitespace only, case kept (the demo's generated task, whose words are already clean). */
        WHITESPACE,
        /**
         * Lower-cased, then runs of word characters and runs of punctuation (Hugging Face's {@code Whitespace}
         * pre-tokenizer, {@code \w+|[^\w\s]+}): "Loved it." and "loved it ." are the same three words.
         */
        LOWERCASE_WORDS_AND_PUNCTUATION;

        private static final Pattern WORDS = Pattern.compile("\\w+|[^\\w\\s]+", Pattern.UNICODE_CHARACTER_CLASS);

        /** The words of a text, as the written tokenizer cuts them (used to count them before it exists). */
        public List<String> words(String text) {
            List<String> out = new ArrayList<>();
            if (this == WHITESPACE) {
                for (String w : text.strip().split("\\s+")) {
                    if (!w.isEmpty()) {
                        out.add(w);
                    }
                }
                return out;
            }
            Matcher m = WORDS.matcher(text.toLowerCase(Locale.ROOT));
            while (m.find()) {
                out.add(m.group());
            }
            return out;
        }
    }

    public WordVocabulary {
        words = List.copyOf(words);
    }

    /**
     * The {@code size − 3} most frequent words of the texts (ties in alphabetical order, so the vocabulary does not
     * depend on the texts' order), with {@code required} words added in any case: a prompt template's and its
     * answers' words, which the texts may lack.
     */
    public static WordVocabulary mostFrequent(Iterable<String> texts, Split split, int size, List<String> required) {
        Map<String, Integer> counts = new HashMap<>();
        for (String t : texts) {
            for (String w : split.words(t)) {
                counts.merge(w, 1, Integer::sum);
            }
        }
        List<String> mandatory = required.stream().flatMap(r -> split.words(r).stream()).distinct().toList();
        int room = size - SPECIALS.size() - mandatory.size();
        if (room < 0) {
            throw new IllegalArgumentException("a vocabulary of " + size + " cannot hold the 3 special tokens and the "
                    + mandatory.size() + " required words");
        }
        List<String> words = new ArrayList<>(mandatory);
        counts.entrySet().stream().filter(e -> !mandatory.contains(e.getKey()) && !SPECIALS.contains(e.getKey()))
                .sorted(Map.Entry.<String, Integer>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                .limit(room).map(Map.Entry::getKey).forEach(words::add);
        return new WordVocabulary(words, split);
    }

    /** Ids by token, specials first. */
    public Map<String, Integer> ids() {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        SPECIALS.forEach(s -> vocab.put(s, vocab.size()));
        words.forEach(w -> vocab.putIfAbsent(w, vocab.size()));
        return vocab;
    }

    public int size() {
        return ids().size();
    }

    /** The share of the texts' words that are in the vocabulary (1 − the {@code <unk>} rate). */
    public double coverage(Iterable<String> texts) {
        Map<String, Integer> ids = ids();
        long known = 0;
        long all = 0;
        for (String t : texts) {
            for (String w : split.words(t)) {
                all++;
                known += ids.containsKey(w) ? 1 : 0;
            }
        }
        return all == 0 ? 1 : (double) known / all;
    }

    /** Writes {@code dir/tokenizer.json}. */
    public void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        ObjectMapper json = new ObjectMapper();
        Map<String, Integer> vocab = ids();
        ObjectNode tok = json.createObjectNode();
        tok.put("version", "1.0");
        ArrayNode added = tok.putArray("added_tokens");
        for (String special : SPECIALS) {
            added.addObject().put("id", vocab.get(special)).put("content", special).put("single_word", false).put("lstrip", false)
                    .put("rstrip", false).put("normalized", false).put("special", true);
        }
        if (split == Split.WHITESPACE) {
            tok.putNull("normalizer");
            tok.putObject("pre_tokenizer").put("type", "WhitespaceSplit");
        } else {
            tok.putObject("normalizer").put("type", "Lowercase");
            tok.putObject("pre_tokenizer").put("type", "Whitespace");
        }
        tok.putNull("post_processor");
        tok.putObject("decoder").put("type", "WordPiece").put("prefix", "##").put("cleanup", false);
        ObjectNode model = tok.putObject("model");
        model.put("type", "WordLevel");
        model.put("unk_token", "<unk>");
        ObjectNode vn = model.putObject("vocab");
        vocab.entrySet().stream().sorted(Comparator.comparing(Map.Entry::getValue)).forEach(e -> vn.put(e.getKey(), e.getValue()));
        json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("tokenizer.json").toFile(), tok);
    }
}
