package org.laplacelora.streams.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.laplacelora.streams.kafka.StreamsRunner;
import picocli.CommandLine.Option;

/** --application-id, --state-dir and --instance-id of a Kafka Streams service. */
final class AppOptions {
    @Option(names = "--application-id", paramLabel = "ID") String applicationId;
    @Option(names = "--state-dir", paramLabel = "DIR") Path stateDir;
    @Option(names = "--instance-id", paramLabel = "NAME") String instanceId;

    AppOptions(String defaultApplicationId) {
        this.applicationId = defaultApplicationId;
    }

    Path stateDir() throws IOException {
        return stateDir != null ? stateDir : Files.createTempDirectory(applicationId);
    }

    /** The Streams settings these options add: static membership when the instance has a name. */
    Map<String, Object> streamsSettings() {
        return instanceId == null ? Map.of() : StreamsRunner.staticMember(instanceId);
    }
}
