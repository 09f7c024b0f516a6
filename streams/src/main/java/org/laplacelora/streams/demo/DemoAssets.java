package org.laplacelora.streams.demo;

import org.laplacelora.model.synthetic.TinyLlama;
import org.laplacelora.model.synthetic.SyntheticTask;
import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.laplacelora.model.laplace.curvature.CurvatureConvention;
import org.laplacelora.model.laplace.curvature.FisherType;
import org.laplacelora.model.laplace.fit.FitSettings;
import org.laplacelora.model.laplace.fit.PosteriorFitting;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.laplace.predictive.Links;
import org.laplacelora.model.llama.ModelLoader;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.lora.LoraConfig;
import org.laplacelora.model.tasks.EncodedExample;
import org.laplacelora.model.tasks.Task;
import org.laplacelora.model.train.MapTrainer;
import org.laplacelora.model.train.MapTrainerSettingsBuilder;

/**
 * The demo's model, MAP adapter and posterior, built on first use and cached: a tiny LLaMA from a fixed
 * seed, a LoRA fine-tuned the paper's way on the generated task (before the drift) — a small training set with
 * some label noise, trained until it fits even the noise, so MAP ends up overconfident — and a Laplace posterior
 * fitted with validation data (with the temperature of the baseline). A later run with the same settings reuses them.
 */
public final class DemoAssets {
    /** Bump when anything below changes what gets built. */
    private static final String VERSION = "demo-v2";
    static final long MODEL_SEED = 7;
    public static final int TRAIN = 120;
    static final int EPOCHS = 60;
    public static final int VALIDATION = 200;
    static final double LABEL_NOISE = 0.1;

    public record Paths(Path model, Path adapter, Path posterior, Map<String, Object> report) {}

    private DemoAssets() {}

    /** The demo's tiny LLaMA with random weights from its fixed seed, and its tokenizer. */
    public static void writeModel(Path model) throws IOException {
        TinyLlama.write(model, SyntheticTask.vocabulary(), TinyLlama.Shape.demo(), MODEL_SEED);
    }

    /** The demo's generated task, with its label noise. */
    public static SyntheticTask task() {
        return new SyntheticTask(LABEL_NOISE);
    }

    public static Path directory(Path cacheRoot) {
        return cacheRoot.resolve(VERSION);
    }

    /** Returns the cached assets, building them first if they are missing. */
    public static Paths prepare(Path cacheRoot, Consumer<String> log) throws IOException {
        Path dir = directory(cacheRoot);
        Path model = dir.resolve("model");
        Path adapter = dir.resolve("adapter");
        Path posterior = dir.resolve("posterior.safetensors");
        Path report = dir.resolve("prepare.json");
        ObjectMapper json = new ObjectMapper();
        if (Files.isRegularFile(report) && Files.isRegularFile(posterior)) {
            @SuppressWarnings("unchecked")
            Map<String, Object> r = json.readValue(report.toFile(), Map.class);
            log.accept("using the cached demo model, adapter and posterior in " + dir);
            return new Paths(model, adapter, posterior, r);
        }
        Files.createDirectories(dir);
        long start = System.nanoTime();
        log.accept("first run: building the demo model in " + dir + " (cached for later runs)");
        writeModel(model);
        Map<String, Object> r = new LinkedHashMap<>();
        try (ModelLoader.LoadedModel m = ModelLoader.load(model, null, Device.cpu());
             NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            SyntheticTask task = task();
            Task t = Task.generic(SyntheticTask.ANSWERS, m.tokenizer());
            AtomicInteger tooLong = new AtomicInteger();
            int limit = m.llama().config().maxPositions();
            List<EncodedExample> train = t.encodeAll(task.examples("train-", TRAIN, 1, false), m.tokenizer(), limit, tooLong);
            List<EncodedExample> val = t.encodeAll(task.examples("val-", VALIDATION, 2, false), m.tokenizer(), limit, tooLong);
            LoraConfig config = new LoraConfig(8, 16, 0.05, LoraConfig.DEFAULT_TARGETS, m.llama().identity(), false);
            try (LoraAdapter lora = LoraAdapter.initialise(m.llama(), config, 1, manager)) {
                log.accept(String.format("  fine-tuning the MAP LoRA on %d generated questions ...", train.size()));
                MapTrainer trainer = new MapTrainer(m.llama(), lora, t.answerIds());
                trainer.train(train, MapTrainerSettingsBuilder.builder().learningRate(3e-3).weightDecay(0).batchSize(16).epochs(EPOCHS)
                        .seed(1).padId(m.tokenizer().bos()).build(), null, (s, n, l, x) -> {});
                lora.save(adapter);
                double trainAccuracy = trainer.accuracy(train, 64, m.tokenizer().bos());
                log.accept(String.format("  train accuracy %.1f%% (label noise %.0f%%); fitting the Laplace posterior ...",
                        100 * trainAccuracy, 100 * LABEL_NOISE));
                LaplacePosterior p = PosteriorFitting.fit(m.llama(), lora, t, train, val,
                        new FitSettings(EnumSet.allOf(CurvatureConvention.class), FisherType.EXACT, 10, 16, false,
                                Links.REFIT_TUNING_SAMPLES, Double.NaN, 0), m.tokenizer().bos(), x -> {}, x -> {});
                p.save(posterior);
                r.put("train_accuracy", trainAccuracy);
                r.put("convention", p.info().convention().id());
                r.put("lambda", p.prior().lambda());
                r.put("temperature", p.temperature());
                r.put("seconds", (System.nanoTime() - start) / 1e9);
                log.accept(String.format("  posterior: convention %s, λ %.3g, temperature %.2f (%.0f s in all)",
                        p.info().convention().id(), p.prior().lambda(), p.temperature(), (System.nanoTime() - start) / 1e9));
            }
        }
        json.writerWithDefaultPrettyPrinter().writeValue(report.toFile(), r);
        return new Paths(model, adapter, posterior, r);
    }
}
