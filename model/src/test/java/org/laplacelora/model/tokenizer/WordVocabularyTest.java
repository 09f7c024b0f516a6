package org.laplacelora.model.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WordVocabularyTest {
    private static final List<String> TEXTS = List.of("it 's a charming and often affecting journey . ",
            "Wow... Loved this place.", "the acting , costumes , music , cinematography and sound are all astounding",
            "Not tasty and the texture was just nasty.", "it 's not a charming journey", "a a a the the");

    /**
     * The Java split that counts the words and the Rust tokenizer that reads the written tokenizer.json must cut text
     * the same way, or the vocabulary would be chosen for words the model never sees.
     */
    @Test
    void theWrittenTokenizerCutsTextAsTheVocabularyCountedIt(@TempDir Path dir) throws Exception {
        WordVocabulary v = WordVocabulary.mostFrequent(TEXTS, WordVocabulary.Split.LOWERCASE_WORDS_AND_PUNCTUATION, 1000, List.of());
        v.write(dir);
        Map<String, Integer> ids = v.ids();
        try (HfTokenizer tok = HfTokenizer.load(dir, 1, 2)) {
            for (String t : TEXTS) {
                int[] expected = WordVocabulary.Split.LOWERCASE_WORDS_AND_PUNCTUATION.words(t).stream().mapToInt(ids::get).toArray();
                assertThat(tok.encode(t, false, false)).as(t).containsExactly(expected);
            }
            assertThat(tok.encode("Wow", true, true)).containsExactly(1, ids.get("wow"), 2);
            assertThat(tok.encode("Zebra.", false, false)).containsExactly(0, ids.get("."));
            assertThat(tok.pieceId("charming")).hasValue(ids.get("charming"));
        }
        assertThat(WordVocabulary.Split.LOWERCASE_WORDS_AND_PUNCTUATION.words("Wow... Loved it's"))
                .containsExactly("wow", "...", "loved", "it", "'", "s");
    }

    @Test
    void keepsTheMostFrequentWordsAndTheRequiredOnes() {
        WordVocabulary v = WordVocabulary.mostFrequent(TEXTS, WordVocabulary.Split.LOWERCASE_WORDS_AND_PUNCTUATION, 7,
                List.of("Sentiment: positive"));
        // 3 specials, the 3 required words, then the most frequent: "a" (6 times).
        assertThat(v.words()).containsExactly("sentiment", ":", "positive", "a");
        assertThat(v.size()).isEqualTo(7);
        assertThat(v.coverage(List.of("a zebra"))).isEqualTo(0.5);
        assertThatThrownBy(() -> WordVocabulary.mostFrequent(TEXTS, WordVocabulary.Split.WHITESPACE, 4, List.of("x y")))
                .hasMessageContaining("cannot hold");
    }
}
