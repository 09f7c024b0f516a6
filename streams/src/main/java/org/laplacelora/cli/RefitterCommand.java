package org.laplacelora.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.laplacelora.model.laplace.LinearisedPredictive;
import org.laplacelora.model.laplace.Link;
import org.laplacelora.schemas.registry.SchemaRegistry;
import org.laplacelora.streams.config.KafkaSettings;
import org.laplacelora.streams.refit.RefitterApp;
import org.laplacelora.streams.scorer.QuestionScorer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "refitter", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs the refitter: keeps the recent labelled questions (from labelled-outcomes) in a buffer that Kafka "
                + "keeps, and on a drift event, every M labels, an interval or a request (refit --now), re-fits the posterior on "
                + "them (same model and adapter), tunes its prior precision on a held-out part and, if it beats the current "
                + "posterior there, publishes it as a new version on posteriors; every scorer swaps it in. Reports go to "
                + "refit-reports. Runs until interrupted (Ctrl-C).",
            "--posterior is version 0: the file the scorers started with."})
final class RefitterCommand implements Callable<Integer> {
    @Mixin
    KafkaOptions kafkaOptions;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    AdapterOptions adapterOptions;

    @Option(names = "--posterior", required = true, paramLabel = "FILE",
            description = "The posterior the scorers started with (version 0).")
    Path posterior;

    @Option(names = "--max-length", defaultValue = "512", paramLabel = "N",
            description = "Longest prompt in tokens; longer labelled questions are left out of refits. Default: ${DEFAULT-VALUE}.")
    int maxLength;

    @Mixin
    RefitOptions refit;

    @Option(names = "--application-id", defaultValue = "laplace-lora-refitter", paramLabel = "ID", description = "Default: ${DEFAULT-VALUE}.")
    String applicationId;

    @Option(names = "--state-dir", paramLabel = "DIR", description = "Local state (default: a temporary directory; the buffer is restored from Kafka).")
    Path stateDir;

    @Override
    public Integer call() throws Exception {
        KafkaSettings kafka = kafkaOptions.settings();
        SchemaRegistry registry = kafka.registry();
        modelOptions.configureEngine();
        try (QuestionScorer scorer = QuestionScorer.load(modelOptions.model, modelOptions.tokenizer, adapterOptions.adapter, posterior,
                modelOptions.device, new LinearisedPredictive(Link.MC, 1000, 0), maxLength);
             RefitterApp app = RefitterApp.start(kafka, registry, scorer, refit.settings(), applicationId,
                     stateDir != null ? stateDir : Files.createTempDirectory("laplace-lora-refitter"))) {
            System.err.printf("refitter running: %s + %s + %s → %s, %s; serving version %d (Ctrl-C to stop)%n",
                    kafka.topics().labelledOutcomes(), kafka.topics().driftEvents(), kafka.topics().refitRequests(),
                    kafka.topics().posteriors(), kafka.topics().refitReports(), scorer.posteriorVersion());
            ScorerCommand.awaitShutdown();
        }
        return 0;
    }
}
