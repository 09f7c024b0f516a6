package org.laplacelora.streams.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** --application-id and --state-dir of a Kafka Streams service. */
final class AppOptions {
    @Option(names = "--application-id", paramLabel = "ID",
            description = "Kafka Streams application id: instances with the same id share the work. Default: ${DEFAULT-VALUE}.")
    String applicationId;

    @Option(names = "--state-dir", paramLabel = "DIR",
            description = "Local state (default: a temporary directory; Kafka restores what it held).")
    Path stateDir;

    AppOptions(String defaultApplicationId) {
        this.applicationId = defaultApplicationId;
    }

    Path stateDir() throws IOException {
        return stateDir != null ? stateDir : Files.createTempDirectory(applicationId);
    }
}
