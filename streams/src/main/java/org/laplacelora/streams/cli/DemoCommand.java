package org.laplacelora.streams.cli;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import org.laplacelora.model.laplace.predictive.LinearisedPredictive;
import org.laplacelora.model.laplace.predictive.Links;
import org.laplacelora.model.tasks.Dataset;
import org.laplacelora.model.tasks.Example;
import org.laplacelora.model.tasks.TaskKind;
import org.laplacelora.model.tasks.TaskQuestion;
import org.laplacelora.streams.calibrator.CalibratorSettings;
import org.laplacelora.streams.demo.DemoAssets;
import org.laplacelora.streams.demo.DemoRun;
import org.laplacelora.streams.demo.DemoSettings;
import org.laplacelora.streams.demo.DemoSettingsBuilder;
import org.laplacelora.streams.demo.DemoSummary;
import org.laplacelora.model.synthetic.SyntheticTask;
import org.laplacelora.streams.posteriors.ServedModel;
import org.laplacelora.streams.refit.RefitterSettings;
import org.laplacelora.streams.refit.RefitterSettingsBuilder;
import org.laplacelora.streams.scorer.QuestionScorer;
import org.laplacelora.streams.scorer.ScorerSettings;
import org.laplacelora.streams.scorer.ScorerTopology;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "demo")
final class DemoCommand extends AppCommand {
    private static final int DEFAULT_QUESTIONS = 3600;

    @Option(names = "--model", paramLabel = "M") Path model;
    @Option(names = "--tokenizer", paramLabel = "T") Path tokenizer;
    @Option(names = "--adapter", paramLabel = "DIR", descriptionKey = "demo.adapter") Path adapter;
    @Option(names = "--posterior", paramLabel = "FILE") Path posterior;
    @Option(names = "--task", paramLabel = "TASK") String task;
    @Option(names = "--dataset", paramLabel = "FILE") String dataset;
    @Option(names = "--questions", paramLabel = "N") Integer questions;
    @Option(names = "--drift-at", split = ",", paramLabel = "K1[,K2]") List<Integer> driftAt;
    @Mixin PublishOptions publish = new PublishOptions(30, 500);
    @Option(names = "--summary-json", paramLabel = "OUT") Path summaryJson;
    @Option(names = "--export-assets", paramLabel = "DIR") Path exportAssets;
    @Option(names = "--window-size", defaultValue = "100", paramLabel = "N", descriptionKey = "demo.window-size") int windowSize;
    @Mixin PartitionsOption partitions;
    @Option(names = "--data-dir", paramLabel = "DIR") Path dataDir;
    @Option(names = "--kafka-port", defaultValue = "0", paramLabel = "PORT") int kafkaPort;
    @Option(names = "--registry-port", defaultValue = "0", paramLabel = "PORT") int registryPort;
    @Option(names = "--no-dashboard", descriptionKey = "demo.no-dashboard") boolean noDashboard;
    @Option(names = "--dashboard-port", defaultValue = "8080", paramLabel = "PORT", descriptionKey = "demo.dashboard-port") int dashboardPort;
    @Option(names = "--dashboard-linger-s", defaultValue = "0", paramLabel = "S", descriptionKey = "demo.dashboard-linger-s") long dashboardLingerS;
    @Option(names = "--threads", defaultValue = "1", paramLabel = "N", descriptionKey = "demo.threads") int threads;
    @Mixin CacheOptions cache;
    @Mixin SeedOption seed = new SeedOption(11);

    @ArgGroup(validate = false, heading = "Refitter (defaults tuned for the demo's pace):%n") DemoRefit refit = new DemoRefit();

    /** The refitter's settings, with a demo's time scale: seconds, not minutes. */
    static final class DemoRefit {
        @Option(names = "--refit-min-examples", paramLabel = "N") Integer minExamples;
        @Option(names = "--refit-debounce-ms", defaultValue = "1000", paramLabel = "MS") long debounceMs = 1000;
        @Option(names = "--refit-cooldown-s", defaultValue = "2", paramLabel = "S") long cooldownS = 2;
        @Option(names = "--refit-gate-margin", defaultValue = "0.01", paramLabel = "NATS") double gateMargin = 0.01;

        /**
         * Half of what the shortest stretch after a shift leaves once an allowance of 12 s for the refit's own time (it
         * takes 5–10 s here with one PyTorch thread per caller) at the publishing rate is taken out, between 250 and 500: a refit needs rows (with 10 % label noise, the calibration after a swap is
         * only as steady as the rows that tune λ and the temperature), and the phase after its swap needs outcomes.
         */
        RefitterSettings settings(int questions, List<Integer> shifts, double rate) {
            int shortest = questions;
            for (int i = 0; i < shifts.size(); i++) {
                shortest = Math.min(shortest, (i + 1 < shifts.size() ? shifts.get(i + 1) : questions) - shifts.get(i));
            }
            int minExamples = this.minExamples != null ? this.minExamples : (int) Math.max(250, Math.min(500, (shortest - 12 * rate) / 2));
            RefitterSettings d = RefitterSettings.defaults();
            // The detectors fire 10–50 outcomes after a shift here: a look-back would put outcomes of
            // the old distribution, under the old rule, into the buffer that should teach the new one.
            return RefitterSettingsBuilder.builder(d).bufferSize(Math.max(500, minExamples)).bufferAge(Duration.ofHours(1)).driftLookback(0)
                    .debounce(Duration.ofMillis(debounceMs))
                    .cooldown(Duration.ofSeconds(cooldownS)).minExamples(minExamples)
                    .refit(d.refit().withGateMargin(gateMargin).withFitFraction(0.5).withTuneFraction(0.3)).build();
        }
    }

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        if (System.getenv("LAPLACE_LORA_LOG") == null) {
            // The live table tells the story; the components' INFO lines, and the warnings an in-process
            // cluster gives while it starts and stops (topics not yet created, temp state dirs), would cut through it.
            logLevel("org.laplacelora", ch.qos.logback.classic.Level.WARN);
            logLevel("org.apache.kafka", ch.qos.logback.classic.Level.ERROR);
            logLevel("kafka", ch.qos.logback.classic.Level.ERROR);
        }
        if (exportAssets != null) {
            return exportAssets(out);
        }
        if (threads < 1) {
            throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
        }
        if (questions != null && questions < 1) {
            throw new IllegalArgumentException("--questions must be at least 1, got " + questions);
        }
        if (windowSize < 1) {
            throw new IllegalArgumentException("--window-size must be at least 1, got " + windowSize);
        }
        if (model == null || questions != null) {
            shifts(questions != null ? questions : DEFAULT_QUESTIONS);   // a bad --drift-at fails before a model is loaded
        }
        // The scorer and the refit call PyTorch at the same time here, each with an OpenMP team of --threads; two teams
        // of 2 on 2 cores spin against each other and doubled the refit's time (docs/benchmarks.md). PyTorch reads the
        // count when each new thread first computes, so this reaches the components' threads, and is put back after.
        Engine.getEngine("PyTorch");
        int threadsBefore = JniUtils.getNumThreads();
        JniUtils.setNumThreads(threads);
        try {
            return run(out);
        } finally {
            JniUtils.setNumThreads(threadsBefore);
        }
    }

    private int run(PrintStream out) throws Exception {
        QuestionScorer scorer;
        ServedModel refitterModel;
        IntFunction<Example> stream;
        LinearisedPredictive predictive = Links.serving();
        java.util.Map<String, Object> modelReport;
        if (model == null) {
            DemoAssets.Paths assets = cache.demoAssets();
            scorer = new QuestionScorer(ServedModel.load(assets.model(), null, assets.adapter(), assets.posterior(), "cpu", 64), predictive);
            refitterModel = ServedModel.load(assets.model(), null, assets.adapter(), assets.posterior(), "cpu", 64);
            if (questions == null) questions = DEFAULT_QUESTIONS;
            stream = syntheticStream(shifts(questions));
            modelReport = assets.report();
        } else {
            if (task == null || dataset == null || adapter == null || posterior == null) {
                throw new IllegalArgumentException("with --model, also give --task, --dataset, --adapter and --posterior "
                        + "(make them with finetune and fit-posterior)");
            }
            scorer = new QuestionScorer(ServedModel.load(model, tokenizer, adapter, posterior, "auto", 512), predictive);
            refitterModel = ServedModel.load(model, tokenizer, adapter, posterior, "auto", 512);
            List<Example> examples = Dataset.read(TaskKind.parse(task), dataset).examples();
            if (questions == null) questions = Math.min(DEFAULT_QUESTIONS, examples.size());
            List<Integer> shifts = shifts(questions);
            if (examples.size() < questions) {
                throw new IllegalArgumentException(dataset + " has " + examples.size() + " usable questions, fewer than --questions " + questions);
            }
            stream = i -> {
                Example e = examples.get(i);
                TaskQuestion q = e.question();
                TaskQuestion renamed = new TaskQuestion("q" + i, q.task(), q.text(), q.choices(), q.context(), q.prompt(), q.answers());
                int classes = q.numClasses();
                return new Example(renamed, DemoSettings.segment(shifts, i) % 2 == 1 && e.labelled() ? (e.label() + 1) % classes : e.label());
            };
            modelReport = java.util.Map.of("model", model.toString(), "posterior", posterior.toString());
        }
        DemoSummary summary;
        try (scorer; refitterModel) {
            ScorerSettings scoring = ScorerSettings.defaults();
            DemoSettings settings = DemoSettingsBuilder.builder().questions(questions).shifts(shifts(questions)).injectBad(publish.injectBad)
                    .rate(publish.rate).labelDelay(publish.labelDelay()).partitions(partitions.partitions).dataDir(dataDir)
                    .kafkaPort(kafkaPort).registryPort(registryPort).dashboardPort(noDashboard ? null : dashboardPort)
                    .dashboardLinger(Duration.ofSeconds(dashboardLingerS))
                    .scorer(scoring.withBatching(new ScorerTopology.Batching(16, Duration.ofMillis(100), scoring.batching().scoreAhead())))
                    .calibrator(CalibratorSettings.defaults().withHorizon(Duration.ofSeconds(30)).withWindowSize(windowSize))
                    .refitter(refit.settings(questions, shifts(questions), publish.rate)).question(stream).build();
            // reported while the dashboard still serves, so that it can be looked at with the summary in view
            summary = DemoRun.run(scorer, refitterModel, settings, out, s -> {
                s.model.putAll(modelReport);
                printSummary(out, s);
                if (summaryJson != null) {
                    new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(summaryJson.toFile(), s.toJson());
                    out.println("summary written to " + summaryJson);
                }
            });
        }
        return summary.duplicatePredictions == 0 && summary.predictions == summary.questionsPublished
                && summary.deadLetters == publish.injectBad ? 0 : 1;
    }

    /**
     * The generated model, adapter and posterior, and the demo's question stream as a generic-task JSONL file, so that
     * the scorer, refitter and producer run as separate processes have files to serve and publish.
     */
    private int exportAssets(PrintStream out) throws IOException {
        if (model != null) {
            throw new IllegalArgumentException("--export-assets writes the generated demo model; with --model you already have the files");
        }
        DemoAssets.Paths assets = cache.demoAssets();
        Path dir = exportAssets.toAbsolutePath();
        Files.createDirectories(dir);
        copyTree(assets.model(), dir.resolve("model"));
        copyTree(assets.adapter(), dir.resolve("adapter"));
        Files.copy(assets.posterior(), dir.resolve("posterior.safetensors"), StandardCopyOption.REPLACE_EXISTING);
        int n = questions == null ? DEFAULT_QUESTIONS : questions;
        List<Integer> shifts = shifts(n);
        IntFunction<Example> stream = syntheticStream(shifts);
        ObjectMapper json = new ObjectMapper();
        try (java.io.BufferedWriter w = Files.newBufferedWriter(dir.resolve("questions.jsonl"))) {
            for (int i = 0; i < n; i++) {
                Example e = stream.apply(i);
                w.write(json.writeValueAsString(Map.of("id", e.question().id(), "prompt", e.question().prompt(), "answers",
                        e.question().answers(), "label", e.label())));
                w.newLine();
            }
        }
        out.printf("wrote %s: model/, adapter/, posterior.safetensors and questions.jsonl (%d questions of the generic task, "
                + "shifts at %s)%n", dir, n, shifts);
        return 0;
    }

    /** The generated stream: the first shift moves the inputs and reverses the rule; the second returns to the original. */
    private IntFunction<Example> syntheticStream(List<Integer> shifts) {
        SyntheticTask synthetic = new SyntheticTask(0.1);
        return i -> synthetic.example("q" + i, seed.seed, i, DemoSettings.segment(shifts, i) % 2 == 1);
    }

    private static void copyTree(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (java.util.stream.Stream<Path> files = Files.list(from)) {
            for (Path f : files.toList()) {
                Files.copy(f, to.resolve(f.getFileName().toString()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    private static void printSummary(PrintStream out, DemoSummary s) {
        out.println();
        out.printf("questions published %d, predictions %d (duplicates %d), dead letters %d %s%n", s.questionsPublished,
                s.predictions, s.duplicatePredictions, s.deadLetters, s.deadLetterReasons);
        if (s.foreignRecords > 0) {
            out.printf("records of someone else's making on the demo's topics: %d (read and set apart, not counted above)%n",
                    s.foreignRecords);
        }
        out.printf("first prediction %.1f s after start; %.1f s in all%n", s.secondsToFirstPrediction, s.seconds);
        Map<Long, List<String>> drift = new java.util.TreeMap<>();
        s.driftEvents.forEach(d -> drift.computeIfAbsent(d.atQuestion(), k -> new java.util.ArrayList<>())
                .add(DemoSummary.describe(d.detector(), d.method(), d.kind())));
        drift.forEach((q, what) -> out.printf("drift detected at question %d by %s%n", q, String.join(", ", what)));
        s.posteriorVersions.forEach(v -> out.printf("posterior version %d first used at question %d%n", v.version(), v.firstUsedAtQuestion()));
        out.printf("%nphases (every method's labelled outcomes pooled):%n");
        out.printf("  %-14s %11s %5s | %18s | %18s | %18s%n", "", "questions", "n", "MAP acc% ECE% NLL", "TS acc% ECE% NLL",
                "LA acc% ECE% NLL");
        for (DemoSummary.PooledPhase p : s.phases) {
            out.printf("  %-14s %11s %5d | %s | %s | %s%n", p.kind(), p.startQuestion() + "-" + p.endQuestion(), p.n(), row(p.map()),
                    row(p.temperature()), row(p.laplace()));
        }
    }

    private static String row(DemoSummary.MethodMetrics m) {
        return String.format("%5.1f %5.1f %6.3f", 100 * m.accuracy(), 100 * m.ece(), m.nll());
    }

    private static void logLevel(String logger, ch.qos.logback.classic.Level level) {
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(logger)).setLevel(level);
    }

    /** The shift points: --drift-at, or a third and two thirds of the way; none for -1. */
    private List<Integer> shifts(int questions) {
        if (driftAt == null) {
            return List.of(questions / 3, 2 * questions / 3);
        }
        if (driftAt.equals(List.of(-1))) {
            return List.of();
        }
        List<Integer> sorted = driftAt.stream().sorted().toList();
        if (sorted.get(0) < 0 || sorted.size() > 2) {
            throw new IllegalArgumentException("--drift-at takes one or two question numbers (or -1 for no shift), got " + driftAt);
        }
        if (sorted.get(sorted.size() - 1) >= questions) {
            throw new IllegalArgumentException("--drift-at " + sorted.get(sorted.size() - 1) + " is past the last question ("
                    + (questions - 1) + " of --questions " + questions + "): that shift would never come");
        }
        if (sorted.size() == 2 && sorted.get(0).equals(sorted.get(1))) {
            throw new IllegalArgumentException("--drift-at gives question " + sorted.get(0) + " twice; give two different ones, or one");
        }
        return sorted;
    }
}
