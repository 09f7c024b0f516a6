package org.laplacelora.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.laplacelora.schemas.registry.SchemaRegistry;
import org.laplacelora.streams.config.KafkaSettings;
import org.laplacelora.streams.config.StreamsRunner;
import org.laplacelora.streams.refit.PosteriorWatcher;
import org.laplacelora.streams.scorer.QuestionScorer;
import org.laplacelora.streams.scorer.ScorerTopology;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "scorer", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs the scorer: questions → micro-batched Laplace-LoRA predictions (exactly once); invalid records "
                + "→ questions-dlq with their reason. It follows the posteriors topic and swaps in each new verified version "
                + "between micro-batches; every prediction names its posterior version. Runs until interrupted (Ctrl-C)."})
final class ScorerCommand implements Callable<Integer> {
    @Mixin
    KafkaOptions kafkaOptions;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    AdapterOptions adapterOptions;

    @Mixin
    ScoringOptions scoring;

    @Option(names = "--application-id", defaultValue = "laplace-lora-scorer", paramLabel = "ID",
            description = "Kafka Streams application id: instances with the same id share the work. Default: ${DEFAULT-VALUE}.")
    String applicationId;

    @Option(names = "--state-dir", paramLabel = "DIR", description = "Local state (default: a temporary directory).")
    Path stateDir;

    @Override
    public Integer call() throws Exception {
        KafkaSettings kafka = kafkaOptions.settings();
        try (QuestionScorer scorer = scoring.load(modelOptions, adapterOptions)) {
            SchemaRegistry registry = kafka.registry();
            Path state = stateDir != null ? stateDir : java.nio.file.Files.createTempDirectory("laplace-lora-scorer");
            try (PosteriorWatcher watcher = new PosteriorWatcher(kafka, registry, scorer, applicationId).start()) {
                if (!watcher.awaitCaughtUp(Duration.ofSeconds(60))) {
                    System.err.printf("warning: %s not read to its end within 60 s; starting on version %d%n", kafka.topics().posteriors(),
                            scorer.posteriorVersion());
                }
                run(kafka, scorer, registry, state);
            }
        }
        return 0;
    }

    private void run(KafkaSettings kafka, QuestionScorer scorer, SchemaRegistry registry, Path state) throws InterruptedException {
        try (StreamsRunner app = StreamsRunner.start(scoring.topology(kafka, scorer, registry), kafka, applicationId, state,
                Duration.ofMillis(scoring.commitIntervalMs), ScorerTopology.STREAMS_SETTINGS)) {
            System.err.printf("scorer running: %s → %s, posterior version %d (%s is version 0; newer ones come from %s) "
                    + "(Ctrl-C to stop)%n", kafka.topics().questions(), kafka.topics().predictions(), scorer.posteriorVersion(),
                    scoring.posterior, kafka.topics().posteriors());
            awaitShutdown();
        }
    }

    static void awaitShutdown() throws InterruptedException {
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
        stop.await();
    }
}
