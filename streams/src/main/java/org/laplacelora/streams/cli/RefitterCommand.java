package org.laplacelora.streams.cli;

import java.util.Map;
import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.posteriors.ServedModel;
import org.laplacelora.streams.refit.RefitterApp;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import org.laplacelora.streams.telemetry.HttpEndpoint;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Option;

@Command(name = "refitter")
final class RefitterCommand extends AppCommand {
    @Mixin KafkaOptions kafkaOptions;
    @Mixin PosteriorOptions posterior;
    @Option(names = "--max-length", paramLabel = "N") int maxLength = 512;
    @Mixin RefitterOptions refitter;
    @Mixin AppOptions app = new AppOptions("laplace-lora-refitter");
    @Mixin MetricsOptions metrics = new MetricsOptions(9403);

    @Override
    public Integer call() throws Exception {
        Map<String, Object> membership = app.streamsSettings();
        KafkaSettings kafka = kafkaOptions.settings();
        AtomicReference<RefitterApp> started = new AtomicReference<>();
        try (HttpEndpoint http = metrics.start(kafkaOptions.config, () -> started.get() != null && started.get().ready());
             ServedModel served = posterior.serve(maxLength);
             RefitterApp running = RefitterApp.start(kafka, served, refitter.settings(), app.applicationId, app.stateDir(), membership)) {
            started.set(running);
            System.err.printf("refitter metrics at %smetrics%n", http.url());
            System.err.printf("refitter running: %s + %s + %s → %s, %s; serving version %d (Ctrl-C to stop)%n",
                    kafka.topicNames().labelledOutcomes(), kafka.topicNames().driftEvents(), kafka.topicNames().refitRequests(),
                    kafka.topicNames().posteriors(), kafka.topicNames().refitReports(), served.posteriorVersion());
            running.awaitStop();
        }
        return 0;
    }
}
