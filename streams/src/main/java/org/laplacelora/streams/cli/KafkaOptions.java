package org.laplacelora.streams.cli;

import java.io.IOException;
import java.nio.file.Path;
import org.laplacelora.streams.kafka.KafkaSettings;
import picocli.CommandLine.Option;

/** Where the Kafka cluster and the schema registry are, and a properties file for security settings and topic names. */
final class KafkaOptions {
    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT,...", defaultValue = "localhost:9092",
            description = "Kafka bootstrap servers. Default: ${DEFAULT-VALUE}.")
    String bootstrapServers;

    @Option(names = "--schema-registry-url", paramLabel = "URL", defaultValue = "http://localhost:8081",
            description = "Confluent-compatible schema registry (comma-separated URLs are tried in turn). Default: ${DEFAULT-VALUE}.")
    String registryUrl;

    @Option(names = "--config", paramLabel = "FILE",
            description = "Properties for every Kafka client (security.protocol, sasl.*, ssl.*), the registry "
                    + "(basic.auth.user.info, schema.registry.ssl.*) and topic names (laplace.lora.topic.questions=...).")
    Path config;

    @Option(names = "--replication-factor", paramLabel = "N", defaultValue = "1",
            description = "Replication of the internal topics Kafka Streams creates. Default: ${DEFAULT-VALUE}.")
    short replicationFactor;

    KafkaSettings settings() throws IOException {
        return KafkaSettings.of(bootstrapServers, registryUrl, config, replicationFactor);
    }
}
