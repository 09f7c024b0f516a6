package org.laplacelora.streams.cli;

import java.util.Map;
import org.laplacelora.streams.calibrator.CalibratorApp;
import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.telemetry.HttpEndpoint;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "calibrator")
final class CalibratorCommand extends AppCommand {
    @Mixin KafkaOptions kafkaOptions;
    @Mixin CalibratorOptions calibrator;
    @Mixin AppOptions app = new AppOptions("laplace-lora-calibrator");
    @Mixin MetricsOptions metrics = new MetricsOptions(9402);

    @Override
    public Integer call() throws Exception {
        Map<String, Object> membership = app.streamsSettings();
        KafkaSettings kafka = kafkaOptions.settings();
        AtomicReference<CalibratorApp> started = new AtomicReference<>();
        try (HttpEndpoint http = metrics.start(kafkaOptions.config, () -> started.get() != null && started.get().ready());
             CalibratorApp running = CalibratorApp.start(kafka, calibrator.settings(), app.applicationId, app.stateDir(), membership)) {
            started.set(running);
            System.err.printf("calibrator metrics at %smetrics%n", http.url());
            System.err.printf("calibrator running: %s + %s → %s (Ctrl-C to stop)%n", kafka.topicNames().predictions(),
                    kafka.topicNames().labels(), kafka.topicNames().calibrationMetrics());
            running.awaitStop();
        }
        return 0;
    }
}
