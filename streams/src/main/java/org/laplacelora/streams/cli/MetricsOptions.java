package org.laplacelora.streams.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;
import org.laplacelora.streams.telemetry.HttpEndpoint;
import picocli.CommandLine.Option;

/** --metrics-port and --bind of a service's /metrics, /health and /ready. */
final class MetricsOptions {
    @Option(names = "--metrics-port", paramLabel = "PORT") int port;
    @Option(names = "--bind", paramLabel = "ADDRESS", defaultValue = "127.0.0.1") String bind;

    MetricsOptions(int defaultPort) {
        this.port = defaultPort;
    }

    /** Starts the endpoint, which serves this process's meters; /ready once {@code ready} holds. */
    HttpEndpoint start(Path config, BooleanSupplier ready) throws IOException {
        HttpEndpoint http = HttpEndpoint.start(HttpOptions.settings(bind, port, "--metrics-port", config));
        http.readyWhen(ready);
        return http;
    }
}
