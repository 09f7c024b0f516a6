package org.laplacelora.model.tasks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.laplacelora.model.Fixtures;
import org.laplacelora.model.tokenizer.HfTokenizer;
import org.laplacelora.model.tokenizer.Llama2cTokenizer;
import org.laplacelora.model.tokenizer.Tokenizer;

class TaskTest {
    private static Llama2cTokenizer tok;

    @BeforeAll
    static void load() throws Exception {
        tok = Llama2cTokenizer.load(Fixtures.tok512(), 512);
    }

    @AfterAll
    static void close() {
        tok.close();
    }

    private static Example find(Dataset d, String id) {
        return d.examples().stream().filter(e -> e.question().id().equals(id)).findFirst().orElseThrow();
    }

    @Test
    void winograndeRowsRenderThePapersTemplateByteForByte() throws Exception {
        Dataset d = Dataset.read(TaskKind.WINOGRANDE, Fixtures.path("data/winogrande-dev-20.jsonl"));
        assertThat(d.examples()).hasSize(20);
        Example e = d.examples().get(0);
        assertThat(e.label()).isEqualTo(1);
        assertThat(PromptTemplates.render(e.question())).isEqualTo("Select one of the choices that answers the following "
                + "question: Sarah was a much better surgeon than Maria so _ always got the easier cases. Choices: "
                + "A. Sarah. B Maria. Answer:");
    }

    @Test
    void arcKeepsOnlyFourChoiceRowsUpperCasesChoicesAndMapsNumericLabels() throws Exception {
        Dataset d = Dataset.read(TaskKind.ARC, Fixtures.path("data/arc-easy-dev.jsonl"));
        assertThat(d.examples()).hasSize(567);          // 570 rows, 3 not 4-choice (data README)
        assertThat(d.skippedCount()).isEqualTo(3);
        Example first = find(d, "MCAS_2000_4_6");
        assertThat(PromptTemplates.render(first.question())).isEqualTo("Select one of the choices that answers the "
                + "following question: Which technology was developed most recently? Choices: A. Cellular telephone. "
                + "B. Television. C. Refrigerator. D. Airplane. Answer:");
        assertThat(first.label()).isEqualTo(0);
        Example numeric = find(d, "NYSEDREGENTS_2014_8_10");   // labels "1".."4", answerKey "1"
        assertThat(numeric.label()).isEqualTo(0);
        assertThat(PromptTemplates.render(numeric.question())).contains("Choices: A. Obtain energy. B. Escape predators.");
    }

    @Test
    void obqaAndBoolqReadTheirOfficialFormats() throws Exception {
        Dataset obqa = Dataset.read(TaskKind.OBQA, Fixtures.path("data/obqa-dev-20.jsonl"));
        assertThat(obqa.examples()).hasSize(20);
        assertThat(obqa.examples().get(0).question().id()).isEqualTo("8-376");
        Dataset boolq = Dataset.read(TaskKind.BOOLQ, Fixtures.path("data/boolq-dev-5.jsonl"));
        Example b = boolq.examples().get(0);
        assertThat(b.label()).isZero();               // "does ethanol take more energy..." is false
        assertThat(PromptTemplates.render(b.question()))
                .startsWith("Answer the question with only True or False: does ethanol take more energy make that produces Context: ");
    }

    @Test
    void answerTokensAreChosenForAllAnswersTogether() throws Exception {
        try (HfTokenizer hf = HfTokenizer.load(Fixtures.path("stories260K/hf"), 1, 2)) {
            for (Tokenizer t : List.of(tok, hf)) {
                // stories260K has " B" as one token but not " A": bare letters for every answer, prompt ends with a space.
                Task wino = Task.of(TaskKind.WINOGRANDE, t);
                assertThat(wino.answers()).containsExactly("A", "B");
                assertThat(wino.answerIds()).containsExactly(447, 445);
                assertThat(wino.trailingSpace()).isTrue();
                Task arc = Task.of(TaskKind.ARC, t);
                assertThat(arc.answers()).containsExactly("A", "B", "C", "D");
                assertThatThrownBy(() -> Task.of(TaskKind.BOOLQ, t))
                        .hasMessageContaining("answer \"False\"").hasMessageContaining("not a single token");
            }
        }
        Dataset d = Dataset.read(TaskKind.WINOGRANDE, Fixtures.path("data/winogrande-dev-20.jsonl"));
        Task wino = Task.of(TaskKind.WINOGRANDE, tok);
        String prompt = wino.prompt(d.examples().get(0).question());
        assertThat(prompt).endsWith("Answer: ");
        int[] ids = wino.encode(d.examples().get(0).question(), tok);
        assertThat(ids[0]).isEqualTo(1);
        assertThat(ids[ids.length - 1]).isEqualTo(410);   // the " " piece: the bare answer follows it
    }

    @Test
    void leadingSpaceFormsArePreferredWhenTheyAreAllSingleTokens(@TempDir Path dir) throws Exception {
        // A word-level vocabulary in which "▁A" and "▁B" exist, as in LLaMA's tokenizer.
        Path json = dir.resolve("tokenizer.json");
        Files.writeString(json, """
                {"version":"1.0","added_tokens":[{"id":0,"content":"<unk>","special":true,"single_word":false,"lstrip":false,"rstrip":false,"normalized":false}],
                 "normalizer":null,"pre_tokenizer":{"type":"Whitespace"},"post_processor":null,"decoder":null,
                 "model":{"type":"WordLevel","vocab":{"<unk>":0,"<s>":1,"</s>":2,"\\u2581A":3,"\\u2581B":4,"A":5,"B":6},"unk_token":"<unk>"}}
                """);
        try (HfTokenizer t = HfTokenizer.load(json, 1, 2)) {
            Task wino = Task.of(TaskKind.WINOGRANDE, t);
            assertThat(wino.answers()).containsExactly(" A", " B");
            assertThat(wino.answerIds()).containsExactly(3, 4);
            assertThat(wino.trailingSpace()).isFalse();
        }
    }

    @Test
    void genericTasksUseTheCallersAnswers() {
        Task t = Task.generic(List.of(" B", "A"), tok);
        assertThat(t.answerIds()).containsExactly(tok.pieceId(" B").getAsInt(), 447);
        TaskQuestion q = new TaskQuestion("g1", TaskKind.GENERIC, null, null, null, "Pick one:", List.of(" B", "A"));
        assertThat(t.prompt(q)).isEqualTo("Pick one:");
        assertThatThrownBy(() -> Task.generic(List.of("A", "zebra"), tok)).hasMessageContaining("\"zebra\"");
    }

    @Test
    void invalidQuestionsCarryTheirReason() {
        Task arc = Task.of(TaskKind.ARC, tok);
        TaskQuestion three = new TaskQuestion("q3", TaskKind.ARC, "Why?", List.of("a", "b", "c"), null, null, null);
        assertThatThrownBy(() -> arc.prompt(three)).isInstanceOfSatisfying(InvalidQuestionException.class,
                e -> assertThat(e.reason()).isEqualTo(InvalidQuestionException.Reason.BAD_CHOICES));
        TaskQuestion empty = new TaskQuestion("q4", TaskKind.ARC, " ", List.of("a", "b", "c", "d"), null, null, null);
        assertThatThrownBy(() -> arc.prompt(empty)).isInstanceOfSatisfying(InvalidQuestionException.class,
                e -> assertThat(e.reason()).isEqualTo(InvalidQuestionException.Reason.EMPTY_TEXT));
        TaskQuestion ok = new TaskQuestion("q5", TaskKind.ARC, "Why is the sky blue?", List.of("a", "b", "c", "d"), null, null, null);
        assertThatThrownBy(() -> arc.encode(ok, tok, 10)).isInstanceOf(PromptTooLongException.class)
                .hasMessageContaining("q5");
    }

    @Test
    void boolqIsTruncatedAtTheEndOfThePassageAndKeepsEos(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("tokenizer.json");
        Files.writeString(json, """
                {"version":"1.0","added_tokens":[],"normalizer":null,"pre_tokenizer":{"type":"Whitespace"},
                 "post_processor":null,"decoder":null,
                 "model":{"type":"WordLevel","vocab":{"<unk>":0,"<s>":1,"</s>":2,"\\u2581True":3,"\\u2581False":4},"unk_token":"<unk>"}}
                """);
        TaskQuestion q = Dataset.read(TaskKind.BOOLQ, Fixtures.path("data/boolq-dev-5.jsonl")).examples().get(0).question();
        try (HfTokenizer t = HfTokenizer.load(json, 1, 2)) {
            Task boolq = Task.of(TaskKind.BOOLQ, t);
            assertThat(boolq.answerIds()).containsExactly(4, 3);     // class 0 = False, class 1 = True
            int[] full = boolq.encode(q, t);
            assertThat(full.length).isGreaterThan(20);
            assertThat(full[full.length - 1]).isEqualTo(2);
            int[] cut = boolq.encode(q, t, 12);
            assertThat(cut).hasSize(12);
            assertThat(cut[11]).isEqualTo(2);                         // EOS kept: the logits are read there
            assertThat(java.util.Arrays.copyOf(cut, 11)).containsExactly(java.util.Arrays.copyOf(full, 11));
        }
    }

    /** SST-2's format (a header, label first) and the UCI one (no header, label last), and the template. */
    @Test
    void sentimentReadsBothReviewFormats(@TempDir Path dir) throws Exception {
        Path sst2 = dir.resolve("test.tsv");
        Files.writeString(sst2, "label\tcontent\n1\ta gorgeous , witty , seductive movie .\n0\tit 's a mess .\n");
        Path uci = dir.resolve("yelp_labelled.txt");
        Files.writeString(uci, "Wow... Loved this place.\t1\n\nCrust is not good.\t0\n");
        List<Example> a = Dataset.read(TaskKind.SENTIMENT, sst2).examples();
        List<Example> b = Dataset.read(TaskKind.SENTIMENT, uci).examples();
        assertThat(a).extracting(Example::label).containsExactly(1, 0);
        assertThat(b).extracting(Example::label).containsExactly(1, 0);
        assertThat(b.get(1).question().id()).isEqualTo("yelp_labelled.txt:3");
        assertThat(PromptTemplates.render(b.get(0).question())).isEqualTo("Review: Wow... Loved this place. Sentiment:");
        assertThat(Dataset.read(TaskKind.SENTIMENT, sst2 + "[1:]").examples()).hasSize(1);

        Path bad = dir.resolve("bad.txt");
        Files.writeString(bad, "Fine.\t1\nNo label here\n");
        assertThatThrownBy(() -> Dataset.read(TaskKind.SENTIMENT, bad)).isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("bad.txt:2:").hasMessageContaining("2 tab-separated fields");
        Files.writeString(bad, "label\tsentence\n2\tGreat.\n");
        assertThatThrownBy(() -> Dataset.read(TaskKind.SENTIMENT, bad)).hasMessageContaining("bad.txt:2:")
                .hasMessageContaining("0 (negative) or 1 (positive), got \"2\"");
    }

    @Test
    void slicesSplitAFileAsThePapersUnshuffledTrainValidationSplit() throws Exception {
        String file = Fixtures.path("data/winogrande-dev-20.jsonl").toString();
        Dataset head = Dataset.read(TaskKind.WINOGRANDE, file + "[:80%]");
        Dataset tail = Dataset.read(TaskKind.WINOGRANDE, file + "[80%:]");
        assertThat(head.examples()).hasSize(16);
        assertThat(tail.examples()).hasSize(4);
        assertThat(tail.examples().get(0)).isEqualTo(Dataset.read(TaskKind.WINOGRANDE, Path.of(file)).examples().get(16));
        assertThat(Dataset.read(TaskKind.WINOGRANDE, file + "[5:7]").examples()).hasSize(2);
        assertThatThrownBy(() -> Dataset.read(TaskKind.WINOGRANDE, file + "[x:]")).hasMessageContaining("slice bounds");
    }

    @Test
    void malformedRowsNameTheFileLineAndField(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("wino.jsonl");
        Files.writeString(f, "{\"qID\":\"a\",\"sentence\":\"s _\",\"option1\":\"x\",\"option2\":\"y\",\"answer\":\"1\"}\n"
                + "{\"qID\":\"b\",\"sentence\":\"s _\",\"option2\":\"y\",\"answer\":\"2\"}\n");
        assertThatThrownBy(() -> Dataset.read(TaskKind.WINOGRANDE, f)).isInstanceOf(DatasetFormatException.class)
                .hasMessage(f + ":2: missing field \"option1\"");
        Path arc = dir.resolve("arc.jsonl");
        Files.writeString(arc, "{\"id\":\"x\",\"question\":{\"stem\":\"s\",\"choices\":[{\"text\":\"a\",\"label\":\"A\"},"
                + "{\"text\":\"b\",\"label\":\"B\"},{\"text\":\"c\",\"label\":\"C\"},{\"text\":\"d\",\"label\":\"D\"}]},\"answerKey\":\"E\"}\n");
        assertThatThrownBy(() -> Dataset.read(TaskKind.ARC, arc)).hasMessageStartingWith(arc + ":1: answerKey \"E\"");
        Path notJson = dir.resolve("bad.jsonl");
        Files.writeString(notJson, "\n{oops\n");
        assertThatThrownBy(() -> Dataset.read(TaskKind.BOOLQ, notJson)).hasMessageStartingWith(notJson + ":2: not valid JSON");
        Path boolq = dir.resolve("boolq.jsonl");
        Files.writeString(boolq, "{\"question\":\"q\",\"passage\":\"p\",\"answer\":\"true\"}\n");
        assertThatThrownBy(() -> Dataset.read(TaskKind.BOOLQ, boolq)).hasMessageContaining(":1: field \"answer\" must be a JSON boolean");
    }
}
