package org.laplacelora.streams.cli;

import java.io.IOException;
import java.nio.file.Path;
import org.laplacelora.streams.kafka.KafkaSettings;
import picocli.CommandLine.Option;

/** Where the Kafka cluster and the schema registry are, and a properties file for security settings and topic names. */
final class KafkaOptions {
    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT,...", defaultValue = "localhost:9092") String bootstrapServers;
    @Option(names = "--schema-registry-url", paramLabel = "URL", defaultValue = "http://localhost:8081") String registryUrl;
    @Option(names = "--config", paramLabel = "FILE") Path config;
    @Option(names = "--replication-factor", paramLabel = "N", defaultValue = "1") short replicationFactor;

    KafkaSettings settings() throws IOException {
        return KafkaSettings.of(bootstrapServers, registryUrl, config, replicationFactor);
    }
}
