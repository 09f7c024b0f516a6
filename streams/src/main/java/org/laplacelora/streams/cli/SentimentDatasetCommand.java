package org.laplacelora.streams.cli;

import java.io.BufferedWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.laplacelora.model.tasks.Dataset;
import org.laplacelora.model.tasks.Example;
import org.laplacelora.model.tasks.TaskKind;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The sentiment benchmark's small labelled training set: a fixed, seeded selection of SST-2 training sentences. */
@Command(name = "sentiment")
final class SentimentDatasetCommand extends AppCommand {
    @Option(names = "--sst2-train", required = true, paramLabel = "FILE") Path sst2Train;
    @Option(names = "--size", paramLabel = "N", defaultValue = "2000") int size;
    @Option(names = "--min-words", paramLabel = "W", defaultValue = "6") int minWords;
    @Mixin SeedOption seed = new SeedOption(1);
    @Option(names = "--out", required = true, paramLabel = "FILE", descriptionKey = "sentiment.out") Path out;

    @Override
    public Integer call() throws Exception {
        PrintWriter outWriter = out();
        Dataset all = Dataset.read(TaskKind.SENTIMENT, sst2Train);
        // One row per sentence: SST-2's training file repeats a phrase under several parse-tree nodes.
        Map<String, Example> sentences = new LinkedHashMap<>();
        for (Example e : all.examples()) {
            if (e.question().text().split("\\s+").length >= minWords) {
                sentences.putIfAbsent(e.question().text(), e);
            }
        }
        List<Example> pool = new ArrayList<>(sentences.values());
        if (pool.size() < size) {
            throw new IllegalArgumentException(sst2Train + " has " + pool.size() + " distinct rows of at least " + minWords
                    + " words, fewer than --size " + size);
        }
        Collections.shuffle(pool, new Random(seed.seed));
        List<Example> chosen = pool.subList(0, size);
        if (out.getParent() != null) {
            Files.createDirectories(out.getParent());
        }
        try (BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
            w.write("label\tsentence\n");
            for (Example e : chosen) {
                w.write(e.label() + "\t" + e.question().text() + "\n");
            }
        }
        long positive = chosen.stream().filter(e -> e.label() == 1).count();
        outWriter.printf("%s: %d of the %d distinct SST-2 training rows of at least %d words (seed %d), %.1f%% positive; "
                        + "use FILE[:80%%] to fine-tune and FILE[80%%:] to validate%n", out, size, pool.size(), minWords, seed.seed,
                100.0 * positive / size);
        return 0;
    }
}
