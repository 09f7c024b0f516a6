package org.laplacelora.streams.cli;

import org.laplacelora.streams.dashboard.DashboardApp;
import org.laplacelora.streams.kafka.KafkaSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "dashboard")
final class DashboardCommand extends AppCommand {
    @Mixin KafkaOptions kafkaOptions;
    @Option(names = "--port", paramLabel = "PORT", defaultValue = "8080", descriptionKey = "dashboard.port") int port;
    @Option(names = "--bind", paramLabel = "ADDRESS", defaultValue = "127.0.0.1", descriptionKey = "dashboard.bind") String bind;
    @Option(names = "--group", paramLabel = "ID", defaultValue = "laplace-lora-dashboard", descriptionKey = "dashboard.group") String group;

    @Override
    public Integer call() throws Exception {
        KafkaSettings kafka = kafkaOptions.settings();
        try (DashboardApp dashboard = DashboardApp.start(kafka, HttpOptions.settings(bind, port, "--port", kafkaOptions.config), group)) {
            out().printf("dashboard at %s (metrics at %smetrics), reading %s from its beginning (Ctrl-C to stop)%n", dashboard.url(),
                    dashboard.url(), kafka.bootstrapServers());
            out().flush();
            Thread.currentThread().join(); // until Ctrl-C
        }
        return 0;
    }
}
