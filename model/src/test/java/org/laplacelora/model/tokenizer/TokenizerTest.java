package org.laplacelora.model.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.laplacelora.model.Fixtures;
import org.laplacelora.model.core.CheckpointException;

/** Encoder cases recorded from run.c's encode(); the HF tokenizer.json export must agree with them. */
class TokenizerTest {
    private static final JsonNode CASES = Fixtures.json("stories260K/tokenizer_cases.json").get("cases");

    @Test
    void llama2cTokenizerEncodesExactlyLikeRunC() throws Exception {
        try (Llama2cTokenizer tok = Llama2cTokenizer.load(Fixtures.tok512(), 512)) {
            for (JsonNode c : CASES) {
                String text = c.get("text").asText();
                assertThat(tok.encode(text, true, false)).as("ids of %s", c.get("text")).containsExactly(Fixtures.ints(c.get("ids")));
                assertThat(tok.decode(tok.encode(text, true, false))).as("round trip of %s", c.get("text")).isEqualTo(text);
            }
        }
    }

    /** The byte bound a scorer uses to refuse a huge prompt unencoded holds on every fixture case: tokens × bound ≥ bytes. */
    @Test
    void noTokenStandsForMoreBytesThanTheBound() throws Exception {
        try (Llama2cTokenizer tok = Llama2cTokenizer.load(Fixtures.tok512(), 512)) {
            assertThat(tok.maxBytesPerToken()).isBetween(1, 64);
            for (JsonNode c : CASES) {
                String text = c.get("text").asText();
                int tokens = tok.encode(text, false, false).length;
                assertThat((long) tokens * tok.maxBytesPerToken()).as(text).isGreaterThanOrEqualTo(
                        text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
            }
        }
    }

    @Test
    void hfTokenizerJsonGivesTheSameIdsAsTheLlama2cTokenizer() throws Exception {
        try (HfTokenizer hf = HfTokenizer.load(Fixtures.path("stories260K/hf"), 1, 2);
             Llama2cTokenizer l2c = Llama2cTokenizer.load(Fixtures.tok512(), 512)) {
            int compared = 0;
            for (JsonNode c : CASES) {
                if (c.path("hf_tokenizer_json_differs").asBoolean(false)) {
                    continue; // literal "<s>" text: HF matches registered special tokens, run.c does not
                }
                String text = c.get("text").asText();
                assertThat(hf.encode(text, true, false)).as("ids of %s", c.get("text")).containsExactly(l2c.encode(text, true, false));
                assertThat(hf.decode(hf.encode(text, true, false))).isEqualTo(text);
                compared++;
            }
            assertThat(compared).isEqualTo(CASES.size() - 1);
            assertThat(hf.vocabSize()).isEqualTo(512);
        }
    }

    @Test
    void greedyFixturePiecesDecodeToRunCsText() throws Exception {
        try (Llama2cTokenizer tok = Llama2cTokenizer.load(Fixtures.tok512(), 512)) {
            for (JsonNode c : Fixtures.json("stories260K/greedy.json").get("cases")) {
                assertThat(tok.decode(Fixtures.ints(c.get("tokens")))).isEqualTo(c.get("text").asText());
            }
        }
    }

    @Test
    void pieceLookupFindsSingleTokensWithTheirSpaces() throws Exception {
        try (Llama2cTokenizer l2c = Llama2cTokenizer.load(Fixtures.tok512(), 512);
             HfTokenizer hf = HfTokenizer.load(Fixtures.path("stories260K/hf"), 1, 2)) {
            for (Tokenizer tok : new Tokenizer[] {l2c, hf}) {
                assertThat(tok.pieceId(" B")).hasValue(l2c.pieceId(" B").getAsInt());
                assertThat(tok.pieceId("A")).hasValue(447);
                assertThat(tok.pieceId("B")).hasValue(445);
                assertThat(tok.pieceId(" A")).isEmpty();
                assertThat(tok.pieceId("zzz")).isEmpty();
            }
        }
    }

    @Test
    void aTokenizerThatDoesNotFitTheModelIsRefused(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> Llama2cTokenizer.load(Fixtures.tok512(), 1000))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("does not fit");
        assertThatThrownBy(() -> Llama2cTokenizer.load(Fixtures.tok512(), 300))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("larger vocabulary");
        assertThatThrownBy(() -> Llama2cTokenizer.load(dir.resolve("missing.bin"), 512))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("not found");
        Path bad = Files.writeString(dir.resolve("tokenizer.json"), "{\"model\":{}}");
        assertThatThrownBy(() -> HfTokenizer.load(bad, 1, 2)).hasMessageContaining("model.vocab");
    }
}
