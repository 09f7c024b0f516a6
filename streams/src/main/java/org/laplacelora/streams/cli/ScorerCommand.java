package org.laplacelora.streams.cli;

import java.util.Map;
import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.scorer.QuestionScorer;
import org.laplacelora.streams.scorer.ScorerApp;
import org.laplacelora.streams.telemetry.HttpEndpoint;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "scorer")
final class ScorerCommand extends AppCommand {
    @Mixin KafkaOptions kafkaOptions;
    @Mixin PosteriorOptions posterior;
    @Mixin ScoringOptions scoring;
    @Mixin AppOptions app = new AppOptions("laplace-lora-scorer");
    @Mixin MetricsOptions metrics = new MetricsOptions(9401);

    @Override
    public Integer call() throws Exception {
        Map<String, Object> membership = app.streamsSettings();
        KafkaSettings kafka = kafkaOptions.settings();
        AtomicReference<ScorerApp> started = new AtomicReference<>();
        try (HttpEndpoint http = metrics.start(kafkaOptions.config, () -> started.get() != null && started.get().ready());
             QuestionScorer scorer = scoring.load(posterior);
             ScorerApp running = ScorerApp.start(kafka, scorer, scoring.settings(), app.applicationId, app.stateDir(), membership)) {
            started.set(running);
            System.err.printf("scorer metrics at %smetrics%n", http.url());
            System.err.printf("scorer running: %s → %s, posterior version %d (%s is version 0; newer ones come from %s) "
                    + "(Ctrl-C to stop)%n", kafka.topicNames().questions(), kafka.topicNames().predictions(),
                    scorer.served().posteriorVersion(), posterior.posterior, kafka.topicNames().posteriors());
            running.awaitStop();
        }
        return 0;
    }
}
