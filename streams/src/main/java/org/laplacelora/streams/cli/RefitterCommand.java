package org.laplacelora.streams.cli;

import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.posteriors.ServedModel;
import org.laplacelora.streams.refit.RefitterApp;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "refitter")
final class RefitterCommand extends AppCommand {
    @Mixin KafkaOptions kafkaOptions;
    @Mixin PosteriorOptions posterior;
    @Option(names = "--max-length", paramLabel = "N") int maxLength = 512;
    @Mixin RefitterOptions refitter;
    @Mixin AppOptions app = new AppOptions("laplace-lora-refitter");

    @Override
    public Integer call() throws Exception {
        KafkaSettings kafka = kafkaOptions.settings();
        try (ServedModel served = posterior.serve(maxLength);
             RefitterApp running = RefitterApp.start(kafka, served, refitter.settings(), app.applicationId, app.stateDir())) {
            System.err.printf("refitter running: %s + %s + %s → %s, %s; serving version %d (Ctrl-C to stop)%n",
                    kafka.topicNames().labelledOutcomes(), kafka.topicNames().driftEvents(), kafka.topicNames().refitRequests(),
                    kafka.topicNames().posteriors(), kafka.topicNames().refitReports(), served.posteriorVersion());
            running.awaitStop();
        }
        return 0;
    }
}
