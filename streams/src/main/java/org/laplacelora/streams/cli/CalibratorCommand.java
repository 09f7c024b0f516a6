package org.laplacelora.streams.cli;

import org.laplacelora.streams.calibrator.CalibratorApp;
import org.laplacelora.streams.kafka.KafkaSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "calibrator")
final class CalibratorCommand extends AppCommand {
    @Mixin KafkaOptions kafkaOptions;
    @Mixin CalibratorOptions calibrator;
    @Mixin AppOptions app = new AppOptions("laplace-lora-calibrator");

    @Override
    public Integer call() throws Exception {
        KafkaSettings kafka = kafkaOptions.settings();
        try (CalibratorApp running = CalibratorApp.start(kafka, calibrator.settings(), app.applicationId, app.stateDir())) {
            System.err.printf("calibrator running: %s + %s → %s (Ctrl-C to stop)%n", kafka.topicNames().predictions(),
                    kafka.topicNames().labels(), kafka.topicNames().calibrationMetrics());
            running.awaitStop();
        }
        return 0;
    }
}
