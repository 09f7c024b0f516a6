package org.laplacelora.streams.cli;

import java.nio.file.Path;
import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.posteriors.ServedModel;
import org.laplacelora.streams.refit.RefitterApp;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "refitter",
        description = {"Runs the refitter: keeps the recent labelled questions (from labelled-outcomes) in a buffer that Kafka "
                + "keeps, and on a drift event, every M labels, an interval or a request (refit --now), re-fits the posterior on "
                + "them (same model and adapter), tunes its prior precision on a held-out part and, if it beats the current "
                + "posterior there, publishes it as a new version on posteriors; every scorer swaps it in. Reports go to "
                + "refit-reports. Runs until interrupted (Ctrl-C).",
            "--posterior is version 0: the file the scorers started with."})
final class RefitterCommand extends AppCommand {
    @Mixin
    KafkaOptions kafkaOptions;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    AdapterOptions adapterOptions;

    @Option(names = "--posterior", required = true, paramLabel = "FILE",
            description = "The posterior the scorers started with (version 0).")
    Path posterior;

    @Option(names = "--max-length", paramLabel = "N",
            description = "Longest prompt in tokens; longer labelled questions are left out of refits. Default: ${DEFAULT-VALUE}.")
    int maxLength = 512;

    @Mixin
    RefitterOptions refitter;

    @Mixin
    AppOptions app = new AppOptions("laplace-lora-refitter");

    @Override
    public Integer call() throws Exception {
        KafkaSettings kafka = kafkaOptions.settings();
        modelOptions.configureEngine();
        try (ServedModel served = ServedModel.load(modelOptions.model, modelOptions.tokenizer, adapterOptions.adapter, posterior,
                modelOptions.device, maxLength);
             RefitterApp running = RefitterApp.start(kafka, served, refitter.settings(), app.applicationId, app.stateDir())) {
            System.err.printf("refitter running: %s + %s + %s → %s, %s; serving version %d (Ctrl-C to stop)%n",
                    kafka.topicNames().labelledOutcomes(), kafka.topicNames().driftEvents(), kafka.topicNames().refitRequests(),
                    kafka.topicNames().posteriors(), kafka.topicNames().refitReports(), served.posteriorVersion());
            running.awaitStop();
        }
        return 0;
    }
}
