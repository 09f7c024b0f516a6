package org.laplacelora.streams.kafka;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.laplacelora.schemas.registry.HttpSchemaRegistry;
import org.laplacelora.schemas.registry.RegistryConfig;
import org.laplacelora.schemas.registry.SchemaRegistry;

/**
 * Where the cluster and the registry are, and the client properties every Kafka client of the app gets
 * (security settings from a properties file: {@code security.protocol}, {@code sasl.*}, {@code ssl.*}, and
 * the registry's {@code schema.registry.*} / {@code basic.auth.user.info}). Topic names can be overridden
 * there too ({@link TopicNames}). One registry client and one set of topic serdes per settings.
 */
public final class KafkaSettings {
    private final String bootstrapServers;
    private final String registryUrl;
    private final Map<String, Object> clientProperties;
    private final TopicNames topicNames;
    private final short replicationFactor;
    private SchemaRegistry registry;
    private Topics topics;

    private KafkaSettings(String bootstrapServers, String registryUrl, Map<String, Object> clientProperties, TopicNames topicNames,
                          short replicationFactor) {
        this.bootstrapServers = bootstrapServers;
        this.registryUrl = registryUrl;
        this.clientProperties = Map.copyOf(clientProperties);
        this.topicNames = topicNames;
        this.replicationFactor = replicationFactor;
    }

    /**
     * @param propertiesFile client, registry and topic-name properties, or null
     * @param replication replication factor of the topics Kafka Streams creates (changelogs, repartitions)
     */
    public static KafkaSettings of(String bootstrap, String registryUrl, Path propertiesFile, short replication) throws IOException {
        Map<String, Object> props = new HashMap<>();
        if (propertiesFile != null) {
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(propertiesFile)) {
                p.load(r);
            }
            p.forEach((k, v) -> props.put(k.toString(), v.toString()));
        }
        TopicNames names = TopicNames.from(props);
        props.keySet().removeIf(k -> k.startsWith("laplace.lora."));
        return new KafkaSettings(bootstrap, registryUrl, props, names, replication);
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    public String registryUrl() {
        return registryUrl;
    }

    public short replicationFactor() {
        return replicationFactor;
    }

    public TopicNames topicNames() {
        return topicNames;
    }

    /** The registry client, with the URL and the registry settings of the properties file. */
    public synchronized SchemaRegistry registry() {
        if (registry == null) {
            Map<String, Object> r = new HashMap<>(clientProperties);
            r.put(RegistryConfig.URL, registryUrl);
            registry = new HttpSchemaRegistry(RegistryConfig.from(r));
        }
        return registry;
    }

    /** The topics with their serdes against {@link #registry()}. */
    public synchronized Topics topics() {
        if (topics == null) {
            topics = Topics.of(topicNames, registry());
        }
        return topics;
    }

    /** Kafka client properties: the file's, minus the registry's own keys. */
    public Map<String, Object> kafka() {
        Map<String, Object> k = new HashMap<>(clientProperties);
        k.keySet().removeIf(key -> key.startsWith("schema.registry.") || key.equals("basic.auth.user.info")
                || key.equals("basic.auth.credentials.source"));
        k.put("bootstrap.servers", bootstrapServers);
        return k;
    }

    /**
     * A consumer of raw values that sees committed records only, as every downstream reader of exactly-once
     * output must; with a group id it starts from the beginning, without one the caller assigns partitions.
     */
    public KafkaConsumer<String, byte[]> readCommittedConsumer(String groupId) {
        Map<String, Object> p = kafka();
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        if (groupId == null) {
            p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        } else {
            p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
            p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        }
        return new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
    }

    /** A producer of raw values, acknowledged by all in-sync replicas, idempotent. */
    public KafkaProducer<String, byte[]> producer() {
        Map<String, Object> p = kafka();
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        return new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }
}
