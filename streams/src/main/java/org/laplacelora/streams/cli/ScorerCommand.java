package org.laplacelora.streams.cli;

import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.scorer.QuestionScorer;
import org.laplacelora.streams.scorer.ScorerApp;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "scorer",
        description = {"Runs the scorer: questions → micro-batched Laplace-LoRA predictions (exactly once); invalid records "
                + "→ questions-dlq with their reason. It follows the posteriors topic and swaps in each new verified version "
                + "between micro-batches; every prediction names its posterior version. Runs until interrupted (Ctrl-C)."})
final class ScorerCommand extends AppCommand {
    @Mixin
    KafkaOptions kafkaOptions;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    AdapterOptions adapterOptions;

    @Mixin
    ScoringOptions scoring;

    @Mixin
    AppOptions app = new AppOptions("laplace-lora-scorer");

    @Override
    public Integer call() throws Exception {
        KafkaSettings kafka = kafkaOptions.settings();
        try (QuestionScorer scorer = scoring.load(modelOptions, adapterOptions);
             ScorerApp running = ScorerApp.start(kafka, scorer, scoring.settings(), app.applicationId, app.stateDir())) {
            System.err.printf("scorer running: %s → %s, posterior version %d (%s is version 0; newer ones come from %s) "
                    + "(Ctrl-C to stop)%n", kafka.topicNames().questions(), kafka.topicNames().predictions(),
                    scorer.served().posteriorVersion(), scoring.posterior, kafka.topicNames().posteriors());
            running.awaitStop();
        }
        return 0;
    }
}
