package org.laplacelora.streams.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** --application-id and --state-dir of a Kafka Streams service. */
final class AppOptions {
    @Option(names = "--application-id", paramLabel = "ID") String applicationId;
    @Option(names = "--state-dir", paramLabel = "DIR") Path stateDir;

    AppOptions(String defaultApplicationId) {
        this.applicationId = defaultApplicationId;
    }

    Path stateDir() throws IOException {
        return stateDir != null ? stateDir : Files.createTempDirectory(applicationId);
    }
}
