package org.laplacelora.model.tasks;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A dataset file in its benchmark's official JSON Lines format, read into labelled questions.
 *
 * <ul>
 *   <li>WinoGrande: {@code qID, sentence, option1, option2, answer} ("1"/"2"; "" in the unlabelled test split)
 *   <li>ARC and OpenBookQA: {@code id, question.stem, question.choices[{text, label}], answerKey}; rows without
 *       exactly 4 choices are skipped and counted (the paper's rule); numeric labels map to A-D by position
 *   <li>BoolQ: {@code question, title, answer (bool), passage}; the id is {@code idx} when present, else the row number
 *   <li>generic: {@code id, prompt, answers[], label}
 *   <li>sentiment: tab-separated, not JSON: GLUE's SST-2 ({@code label<TAB>sentence} under a header line whose first
 *       field is {@code label}) or the UCI review sentences ({@code sentence<TAB>label}, no header); label 0 = negative,
 *       1 = positive; the id is the file's name and line
 * </ul>
 *
 * A malformed row fails the whole read with the file, line and field.
 */
public record Dataset(Path file, TaskKind task, List<Example> examples, Map<String, Integer> skipped) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public Dataset {
        examples = List.copyOf(examples);
        skipped = Collections.unmodifiableMap(new TreeMap<>(skipped));
    }

    public int skippedCount() {
        return skipped.values().stream().mapToInt(Integer::intValue).sum();
    }

    /**
     * Reads a dataset, optionally a slice of it: {@code FILE[:80%]} keeps the first 80% of the usable rows,
     * {@code FILE[80%:]} the rest (the paper's unshuffled 80/20 train/validation split), {@code FILE[100:300]}
     * rows 100 to 299. The slice applies after unusable rows (ARC's non-4-choice ones) are dropped.
     */
    public static Dataset read(TaskKind task, String fileAndSlice) throws IOException {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(.*)\\[([^\\]:]*):([^\\]]*)]$").matcher(fileAndSlice);
        if (!m.matches()) {
            return read(task, Path.of(fileAndSlice));
        }
        Dataset all = read(task, Path.of(m.group(1)));
        int n = all.examples().size();
        int from = bound(m.group(2), n, 0, fileAndSlice);
        int to = bound(m.group(3), n, n, fileAndSlice);
        if (from > to) {
            throw new IllegalArgumentException(fileAndSlice + ": empty slice (" + from + " > " + to + ")");
        }
        return new Dataset(all.file(), task, all.examples().subList(from, to), all.skipped());
    }

    private static int bound(String spec, int n, int empty, String whole) {
        if (spec.isEmpty()) {
            return empty;
        }
        try {
            int v = spec.endsWith("%") ? (int) Math.round(n * Double.parseDouble(spec.substring(0, spec.length() - 1)) / 100)
                    : Integer.parseInt(spec);
            return Math.max(0, Math.min(n, v));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(whole + ": slice bounds must be row numbers or percentages, got " + spec);
        }
    }

    public static Dataset read(TaskKind task, Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "dataset file not found");
        }
        if (task == TaskKind.SENTIMENT) {
            return new Dataset(file, task, sentiment(file), Map.of());
        }
        List<Example> examples = new ArrayList<>();
        Map<String, Integer> skipped = new TreeMap<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            int row = 0;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                Row r = new Row(file, lineNo, parse(file, lineNo, line));
                Example e = switch (task) {
                    case WINOGRANDE -> winogrande(r);
                    case ARC, OBQA -> multipleChoice(r, task, skipped);
                    case BOOLQ -> boolq(r, row);
                    case GENERIC -> generic(r);
                    case SENTIMENT -> throw new IllegalStateException("read above");
                };
                row++;
                if (e != null) {
                    examples.add(e);
                }
            }
        }
        return new Dataset(file, task, examples, skipped);
    }

    private static List<Example> sentiment(Path file) throws IOException {
        List<Example> examples = new ArrayList<>();
        String name = file.getFileName().toString();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            Boolean labelFirst = null;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                String[] fields = line.split("\t", -1);
                if (labelFirst == null) {
                    labelFirst = fields[0].strip().equals("label");
                    if (labelFirst) {
                        continue;   // SST-2's header
                    }
                }
                if (fields.length != 2) {
                    throw new DatasetFormatException(file, lineNo, "expected 2 tab-separated fields ("
                            + (labelFirst ? "label, sentence" : "sentence, label") + "), got " + fields.length);
                }
                String text = (labelFirst ? fields[1] : fields[0]).strip();
                String label = (labelFirst ? fields[0] : fields[1]).strip();
                if (!label.equals("0") && !label.equals("1")) {
                    throw new DatasetFormatException(file, lineNo, "label must be 0 (negative) or 1 (positive), got \"" + label + "\"");
                }
                if (text.isEmpty()) {
                    throw new DatasetFormatException(file, lineNo, "empty sentence");
                }
                examples.add(new Example(new TaskQuestion(name + ":" + lineNo, TaskKind.SENTIMENT, text, List.of(), null, null, null),
                        Integer.parseInt(label)));
            }
        }
        return examples;
    }

    private static JsonNode parse(Path file, int line, String text) throws DatasetFormatException {
        try {
            JsonNode n = JSON.readTree(text);
            if (!n.isObject()) {
                throw new DatasetFormatException(file, line, "row is not a JSON object");
            }
            return n;
        } catch (JsonProcessingException e) {
            throw new DatasetFormatException(file, line, "not valid JSON: " + e.getOriginalMessage());
        }
    }

    /** One row, with field accessors that report the file, line and field on error. */
    private record Row(Path file, int line, JsonNode node) {
        String text(String field) throws DatasetFormatException {
            return text(node, field, field);
        }

        String text(JsonNode parent, String field, String path) throws DatasetFormatException {
            JsonNode v = parent.get(field);
            if (v == null || v.isNull()) {
                throw new DatasetFormatException(file, line, "missing field \"" + path + "\"");
            }
            if (!v.isTextual()) {
                throw new DatasetFormatException(file, line, "field \"" + path + "\" must be a string, got " + v.getNodeType());
            }
            return v.asText();
        }

        JsonNode object(String field) throws DatasetFormatException {
            JsonNode v = node.get(field);
            if (v == null || !v.isObject()) {
                throw new DatasetFormatException(file, line, "missing object field \"" + field + "\"");
            }
            return v;
        }

        DatasetFormatException error(String message) {
            return new DatasetFormatException(file, line, message);
        }
    }

    private static Example winogrande(Row r) throws DatasetFormatException {
        String id = r.text("qID");
        String sentence = r.text("sentence");
        List<String> options = List.of(r.text("option1"), r.text("option2"));
        JsonNode answer = r.node().get("answer");
        int label;
        if (answer == null || answer.isNull() || answer.asText().isEmpty()) {
            label = -1;
        } else if (answer.asText().equals("1") || answer.asText().equals("2")) {
            label = Integer.parseInt(answer.asText()) - 1;
        } else {
            throw r.error("field \"answer\" must be \"1\" or \"2\", got " + answer);
        }
        return new Example(new TaskQuestion(id, TaskKind.WINOGRANDE, sentence, options, null, null, null), label);
    }

    private static Example multipleChoice(Row r, TaskKind task, Map<String, Integer> skipped) throws DatasetFormatException {
        String id = r.text("id");
        JsonNode question = r.object("question");
        String stem = r.text(question, "stem", "question.stem");
        JsonNode choices = question.get("choices");
        if (choices == null || !choices.isArray()) {
            throw r.error("missing array field \"question.choices\"");
        }
        if (choices.size() != 4) {
            skipped.merge("not exactly 4 choices", 1, Integer::sum);
            return null;
        }
        List<String> texts = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        for (int i = 0; i < choices.size(); i++) {
            texts.add(r.text(choices.get(i), "text", "question.choices[" + i + "].text"));
            labels.add(r.text(choices.get(i), "label", "question.choices[" + i + "].label"));
        }
        JsonNode key = r.node().get("answerKey");
        int label = -1;
        if (key != null && !key.isNull() && !key.asText().isEmpty()) {
            label = labels.indexOf(key.asText());
            if (label < 0) {
                throw r.error("answerKey \"" + key.asText() + "\" is none of the choice labels " + labels);
            }
        }
        return new Example(new TaskQuestion(id, task, stem, texts, null, null, null), label);
    }

    private static Example boolq(Row r, int row) throws DatasetFormatException {
        String question = r.text("question");
        String passage = r.text("passage");
        JsonNode idx = r.node().get("idx");
        String id = idx != null && !idx.isNull() ? idx.asText() : Integer.toString(row);
        JsonNode answer = r.node().get("answer");
        int label = -1;
        if (answer != null && !answer.isNull()) {
            if (!answer.isBoolean()) {
                throw r.error("field \"answer\" must be a JSON boolean, got " + answer);
            }
            label = answer.asBoolean() ? 1 : 0;
        }
        return new Example(new TaskQuestion(id, TaskKind.BOOLQ, question, List.of(), passage, null, null), label);
    }

    private static Example generic(Row r) throws DatasetFormatException {
        String id = r.text("id");
        String prompt = r.text("prompt");
        JsonNode answers = r.node().get("answers");
        if (answers == null || !answers.isArray() || answers.size() < 2) {
            throw r.error("field \"answers\" must be an array of at least 2 one-token answers");
        }
        List<String> list = new ArrayList<>();
        for (int i = 0; i < answers.size(); i++) {
            if (!answers.get(i).isTextual()) {
                throw r.error("field \"answers[" + i + "]\" must be a string");
            }
            list.add(answers.get(i).asText());
        }
        JsonNode l = r.node().get("label");
        int label = -1;
        if (l != null && !l.isNull()) {
            if (!l.isInt() || l.asInt() < 0 || l.asInt() >= list.size()) {
                throw r.error("field \"label\" must be an integer in [0, " + list.size() + "), got " + l);
            }
            label = l.asInt();
        }
        return new Example(new TaskQuestion(id, TaskKind.GENERIC, null, List.of(), null, prompt, list), label);
    }
}
