package org.laplacelora.streams.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.laplacelora.model.synthetic.SyntheticTask;
import org.laplacelora.model.tasks.Example;
import org.laplacelora.streams.demo.DemoAssets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The demo's generated task as dataset files, with test sets under each kind of shift, and the demo's tiny model. */
@Command(name = "generated")
final class GeneratedDatasetCommand extends AppCommand {
    @Option(names = "--out", required = true, paramLabel = "DIR", descriptionKey = "generated.out") Path out;
    @Option(names = "--train", paramLabel = "N", descriptionKey = "generated.train") int train = DemoAssets.TRAIN;
    @Option(names = "--validation", paramLabel = "N") int validation = DemoAssets.VALIDATION;
    @Option(names = "--test", paramLabel = "N", defaultValue = "1000", descriptionKey = "generated.test") int test;

    @Override
    public Integer call() throws Exception {
        SyntheticTask task = DemoAssets.task();
        Files.createDirectories(out);
        // The demo's own draws for training and validation (seeds 1 and 2); each test set its own seed.
        write("train.jsonl", task.examples("train-", train, 1, SyntheticTask.Shift.NONE));
        write("validation.jsonl", task.examples("val-", validation, 2, SyntheticTask.Shift.NONE));
        write("test.jsonl", task.examples("test-", test, 3, SyntheticTask.Shift.NONE));
        write("test-input-shift.jsonl", task.examples("input-shift-", test, 4, SyntheticTask.Shift.INPUT));
        write("test-rule-shift.jsonl", task.examples("rule-shift-", test, 5, SyntheticTask.Shift.RULE));
        DemoAssets.writeModel(out.resolve("model"));
        out().printf("%s: train.jsonl (%d), validation.jsonl (%d), test.jsonl, test-input-shift.jsonl (new words for the settings, "
                + "same rule), test-rule-shift.jsonl (same words, the rule reversed) (%d each), and the demo's tiny model in "
                + "model/; --task generic --answers A,B reads them%n", out, train, validation, test);
        return 0;
    }

    private void write(String name, List<Example> examples) throws IOException {
        ObjectMapper json = new ObjectMapper();
        try (BufferedWriter w = Files.newBufferedWriter(out.resolve(name), StandardCharsets.UTF_8)) {
            for (Example e : examples) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("id", e.question().id());
                row.put("prompt", e.question().prompt());
                row.put("answers", e.question().answers());
                row.put("label", e.label());
                w.write(json.writeValueAsString(row));
                w.newLine();
            }
        }
    }
}
