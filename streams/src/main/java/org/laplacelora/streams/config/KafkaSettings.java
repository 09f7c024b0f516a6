package org.laplacelora.streams.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.laplacelora.schemas.registry.HttpSchemaRegistry;
import org.laplacelora.schemas.registry.RegistryConfig;
import org.laplacelora.schemas.registry.SchemaRegistry;

/**
 * Where the cluster and the registry are, and the client properties every Kafka client of the app gets
 * (security settings from a properties file: {@code security.protocol}, {@code sasl.*}, {@code ssl.*}, and
 * the registry's {@code schema.registry.*} / {@code basic.auth.user.info}). Topic names can be overridden
 * there too: {@code laplace.lora.topic.questions=...} and so on.
 */
public record KafkaSettings(String bootstrapServers, String registryUrl, Map<String, Object> clientProperties, Topics topics,
                            short replicationFactor) {
    public static KafkaSettings of(String bootstrap, String registryUrl, Path propertiesFile, short replication) throws IOException {
        Map<String, Object> props = new HashMap<>();
        if (propertiesFile != null) {
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(propertiesFile)) {
                p.load(r);
            }
            p.forEach((k, v) -> props.put(k.toString(), v.toString()));
        }
        Topics d = Topics.defaults();
        Topics topics = new Topics(
                topic(props, "questions", d.questions()), topic(props, "labels", d.labels()),
                topic(props, "predictions", d.predictions()), topic(props, "questions-dlq", d.questionsDlq()),
                topic(props, "calibration-metrics", d.calibrationMetrics()), topic(props, "drift-events", d.driftEvents()),
                topic(props, "labelled-outcomes", d.labelledOutcomes()), topic(props, "refit-requests", d.refitRequests()),
                topic(props, "posteriors", d.posteriors()), topic(props, "refit-reports", d.refitReports()));
        props.keySet().removeIf(k -> k.startsWith("laplace.lora."));
        return new KafkaSettings(bootstrap, registryUrl, props, topics, replication);
    }

    private static String topic(Map<String, Object> props, String name, String fallback) {
        Object v = props.get("laplace.lora.topic." + name);
        return v == null ? fallback : v.toString();
    }

    /** A registry client with the URL and the registry settings of the properties file. */
    public SchemaRegistry registry() {
        Map<String, Object> r = new HashMap<>(clientProperties);
        r.put(RegistryConfig.URL, registryUrl);
        return new HttpSchemaRegistry(RegistryConfig.from(r));
    }

    /** Kafka client properties: the file's, minus the registry's own keys. */
    public Map<String, Object> kafka() {
        Map<String, Object> k = new HashMap<>(clientProperties);
        k.keySet().removeIf(key -> key.startsWith("schema.registry.") || key.equals("basic.auth.user.info")
                || key.equals("basic.auth.credentials.source"));
        k.put("bootstrap.servers", bootstrapServers);
        return k;
    }
}
