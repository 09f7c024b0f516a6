package org.laplacelora.streams.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import me.tongfei.progressbar.ProgressBar;
import org.laplacelora.model.llama.HfCheckpoint;
import org.laplacelora.model.llama.Llama;
import org.laplacelora.model.llama.LlamaConfig;
import org.laplacelora.model.llama.ModelLoader;
import org.laplacelora.model.tasks.DatasetFormatException;
import org.laplacelora.model.tokenizer.HfTokenizer;
import org.laplacelora.model.tokenizer.WordVocabulary;
import org.laplacelora.model.train.LanguageModelTrainer;
import org.laplacelora.model.train.LanguageModelTrainerSettingsBuilder;
import org.laplacelora.streams.posteriors.PosteriorVersions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "pretrain")
final class PretrainCommand extends AppCommand {
    static final String REPORT = "pretraining.json";

    @Option(names = "--text", required = true, paramLabel = "FILE") Path text;
    @Option(names = "--column", paramLabel = "NAME") String column;
    @Option(names = "--out", required = true, paramLabel = "MODEL_DIR", descriptionKey = "pretrain.out") Path out;
    @Option(names = "--keep-words", paramLabel = "TEXT", defaultValue = "") String keepWords;
    @Option(names = "--vocab-size", paramLabel = "V", defaultValue = "6000") int vocabSize;
    @Option(names = "--hidden", paramLabel = "D", defaultValue = "128") int hidden;
    @Option(names = "--layers", paramLabel = "L", defaultValue = "4") int layers;
    @Option(names = "--heads", paramLabel = "H", defaultValue = "4") int heads;
    @Option(names = "--intermediate", paramLabel = "I", defaultValue = "352") int intermediate;
    @Option(names = "--context", paramLabel = "T", defaultValue = "256") int context;
    @Option(names = "--sequence-length", paramLabel = "T", defaultValue = "64") int sequenceLength;
    @Mixin BatchSizeOption batch = new BatchSizeOption(32);
    @Option(names = "--steps", paramLabel = "N", defaultValue = "3000", descriptionKey = "pretrain.steps") int steps;
    @Option(names = "--lr", paramLabel = "X", defaultValue = "3e-3", descriptionKey = "pretrain.lr") double lr;
    @Option(names = "--warmup", paramLabel = "N", defaultValue = "100", descriptionKey = "pretrain.warmup") int warmup;
    @Option(names = "--weight-decay", paramLabel = "W", defaultValue = "0.1") double weightDecay;
    @Option(names = "--validate-every", paramLabel = "N", defaultValue = "500") int validateEvery;
    @Mixin SeedOption seed = new SeedOption(1);
    @Option(names = "--threads", paramLabel = "N") Integer threads;
    @Option(names = "--force") boolean force;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = err();
        PrintWriter outWriter = out();
        ObjectMapper json = new ObjectMapper();
        ObjectNode settings = settings(json);
        Path report = out.resolve(REPORT);
        if (Files.isRegularFile(report) && !force) {
            JsonNode done = json.readTree(report.toFile());
            // Compared as read back: a long written as a JSON number reads back as an int node.
            if (json.readTree(json.writeValueAsString(settings)).equals(done.path("settings"))) {
                outWriter.printf("%s is already pre-trained with these settings (%s); --force trains it again%n", out, report);
                return 0;
            }
            err.printf("%s holds a model pre-trained with other settings (%s); use another --out, or --force to replace it%n", out,
                    report);
            return 2;
        }
        ModelOptions.configureEngine(threads);
        List<String> texts = readTexts(text, column);
        WordVocabulary vocabulary = WordVocabulary.mostFrequent(texts, WordVocabulary.Split.LOWERCASE_WORDS_AND_PUNCTUATION, vocabSize,
                List.of(keepWords));
        double coverage = vocabulary.coverage(texts);
        Files.createDirectories(out);
        Files.deleteIfExists(report);   // the report is written last: without it the directory is not a finished model
        vocabulary.write(out);
        List<Integer> train = new ArrayList<>();
        List<Integer> validation = new ArrayList<>();
        try (HfTokenizer tokenizer = HfTokenizer.load(out, 1, 2)) {
            for (int i = 0; i < texts.size(); i++) {
                // Every 50th text is held out: a check that the model learns the language, not the windows.
                List<Integer> to = i % 50 == 49 ? validation : train;
                for (int id : tokenizer.encode(texts.get(i), true, true)) {
                    to.add(id);
                }
            }
        }
        LlamaConfig config = new LlamaConfig(hidden, intermediate, layers, heads, heads, hidden / heads, vocabulary.size(), context,
                1e-5, 10000.0, true, 1, 2);
        err.printf("pre-training a LLaMA of %,d parameters (d %d, %d layers, %d heads, vocabulary %,d covering %.1f%% of the words) "
                        + "on %,d texts: %,d training and %,d validation tokens%n", config.parameterCount(), hidden, layers, heads,
                vocabulary.size(), 100 * coverage, texts.size(), train.size(), validation.size());
        LanguageModelTrainer.Settings s = LanguageModelTrainerSettingsBuilder.builder().sequenceLength(sequenceLength)
                .batchSize(batch.batchSize).steps(steps).learningRate(lr).warmupSteps(warmup).weightDecay(weightDecay)
                .evaluateEvery(validateEvery).seed(seed.seed).build();
        LanguageModelTrainer.Result result;
        try (NDManager manager = NDManager.newBaseManager(ModelLoader.device("auto"));
             Llama llama = LanguageModelTrainer.initialise(config, seed.seed, manager)) {
            double initial = LanguageModelTrainer.validationLoss(llama, ints(validation), s);
            err.printf("validation loss before training: %.3f nats per token (uniform: %.3f)%n", initial, Math.log(vocabulary.size()));
            try (ProgressBar bar = Progress.bar("pretrain", steps, "steps")) {
                double[] smoothed = {Double.NaN};
                double[] lastValidation = {initial};
                result = LanguageModelTrainer.train(llama, ints(train), ints(validation), s, (step, total, loss, val, rate) -> {
                    smoothed[0] = Double.isNaN(smoothed[0]) ? loss : 0.98 * smoothed[0] + 0.02 * loss;
                    if (!Double.isNaN(val)) {
                        lastValidation[0] = val;
                        // A line of its own: a bar cut to the terminal's width would hide it.
                        err.printf("%nstep %d: training loss %.3f, validation loss %.3f nats per token, %,.0f tokens/s%n", step,
                                smoothed[0], val, rate);
                    }
                    bar.stepTo(step);
                    bar.setExtraMessage(String.format(" loss %.3f, validation %.3f", smoothed[0], lastValidation[0]));
                });
            }
            HfCheckpoint.write(out, llama);
            ObjectNode r = json.createObjectNode();
            r.set("settings", settings);
            r.put("parameters", config.parameterCount());
            r.put("vocabulary", vocabulary.size());
            r.put("word_coverage", coverage);
            r.put("texts", texts.size());
            r.put("training_tokens", train.size());
            r.put("validation_tokens", validation.size());
            r.put("tokens_seen", result.tokens());
            r.put("initial_validation_loss", initial);
            r.put("final_train_loss", result.trainLoss());
            r.put("final_validation_loss", result.validationLoss());
            r.put("seconds", result.seconds());
            json.writerWithDefaultPrettyPrinter().writeValue(report.toFile(), r);
        }
        outWriter.printf("model written to %s: %d steps in %.1f min, validation loss %.3f nats per token (perplexity %.1f)%n", out,
                result.steps(), result.seconds() / 60, result.validationLoss(), Math.exp(result.validationLoss()));
        return 0;
    }

    /** Everything the model depends on, the text's sha256 included: a rerun with the same settings is a cache hit. */
    private ObjectNode settings(ObjectMapper json) throws IOException {
        ObjectNode s = json.createObjectNode();
        s.put("text_sha256", PosteriorVersions.sha256(Files.readAllBytes(text)));
        s.put("column", column);
        s.put("keep_words", keepWords);
        s.put("vocab_size", vocabSize);
        s.put("hidden", hidden);
        s.put("layers", layers);
        s.put("heads", heads);
        s.put("intermediate", intermediate);
        s.put("context", context);
        s.put("sequence_length", sequenceLength);
        s.put("batch_size", batch.batchSize);
        s.put("steps", steps);
        s.put("learning_rate", lr);
        s.put("warmup", warmup);
        s.put("weight_decay", weightDecay);
        s.put("seed", seed.seed);
        return s;
    }

    /** One text per line; with a column, a tab-separated file whose header names it. */
    static List<String> readTexts(Path file, String column) throws IOException {
        List<String> texts = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            int index = -1;
            if (column != null) {
                String header = in.readLine();
                List<String> names = header == null ? List.of() : List.of(header.split("\t", -1));
                index = names.indexOf(column);
                if (index < 0) {
                    throw new DatasetFormatException(file, 1, "no column \"" + column + "\" in the header " + names);
                }
            }
            String line;
            int lineNo = column == null ? 0 : 1;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                if (index < 0) {
                    texts.add(line.strip());
                    continue;
                }
                String[] fields = line.split("\t", -1);
                if (fields.length <= index) {
                    throw new DatasetFormatException(file, lineNo, "no field " + (index + 1) + " (\"" + column + "\"): the row has "
                            + fields.length);
                }
                texts.add(fields[index].strip());
            }
        }
        if (texts.isEmpty()) {
            throw new DatasetFormatException(file, 1, "no text to pre-train on");
        }
        return texts;
    }

    private static int[] ints(List<Integer> list) {
        return list.stream().mapToInt(Integer::intValue).toArray();
    }
}
