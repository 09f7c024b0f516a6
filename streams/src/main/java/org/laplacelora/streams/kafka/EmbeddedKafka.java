package org.laplacelora.streams.kafka;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A one-node Kafka cluster (KRaft: broker and controller) in this process, for the demo and local runs:
 * formatted on first start in its data directory (a temporary one unless given, deleted on close), internal
 * topics with replication factor 1 and one partition so that the first transaction is quick.
 */
public final class EmbeddedKafka implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);

    private final KafkaRaftServer server;
    private final Path dir;
    private final boolean temporary;
    private final int port;

    private EmbeddedKafka(KafkaRaftServer server, Path dir, boolean temporary, int port) {
        this.server = server;
        this.dir = dir;
        this.temporary = temporary;
        this.port = port;
    }

    /**
     * @param dataDir where the log lives (reused across starts when it already holds a formatted log); null for a temporary one
     * @param brokerPort 0 for any free port
     */
    public static EmbeddedKafka start(Path dataDir, int brokerPort, int controllerPort) throws IOException {
        boolean temporary = dataDir == null;
        Path dir = temporary ? Files.createTempDirectory("laplace-lora-kafka") : dataDir.toAbsolutePath();
        Files.createDirectories(dir);
        int port = brokerPort == 0 ? freePort() : brokerPort;
        int controller = controllerPort == 0 ? freePort() : controllerPort;
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.voters", "1@127.0.0.1:" + controller);
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controller);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("log.dirs", dir.toString());
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "1");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "1");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("auto.create.topics.enable", "false");
        KafkaConfig config = new KafkaConfig(p);
        if (!Files.exists(dir.resolve("meta.properties"))) {
            try {
                new Formatter().setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                        .setNodeId(1).setClusterId(Uuid.randomUuid().toString())
                        .setControllerListenerName("CONTROLLER").setMetadataLogDirectory(dir.toString())
                        .addDirectory(dir.toString())
                        .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION).run();
            } catch (Exception e) {
                throw new IOException("cannot format the embedded Kafka log in " + dir + ": " + e.getMessage(), e);
            }
        }
        KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
        server.startup();
        EmbeddedKafka kafka = new EmbeddedKafka(server, dir, temporary, port);
        kafka.awaitReady();
        LOG.info("embedded Kafka ready at {} (log in {})", kafka.bootstrapServers(), dir);
        return kafka;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private void awaitReady() throws IOException {
        try (Admin admin = admin()) {
            admin.describeCluster().nodes().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            close();
            throw new IOException("the embedded Kafka broker did not come up: " + e.getMessage(), e);
        }
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    public Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()));
    }

    /** Creates the topics that do not exist yet (replication factor 1). */
    public void createTopics(List<NewTopic> topics) throws IOException {
        createTopics(bootstrapServers(), topics);
    }

    /** Creates topics on any cluster, ignoring those that already exist. */
    public static void createTopics(String bootstrap, List<NewTopic> topics) throws IOException {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            for (NewTopic t : topics) {
                try {
                    admin.createTopics(List.of(t)).all().get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IOException("cannot create topic " + t.name() + ": " + e.getCause().getMessage(), e);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while creating topics", e);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IOException("timed out creating topics", e);
        }
    }

    @Override
    public void close() {
        server.shutdown();
        server.awaitShutdown();
        if (temporary) {
            try (Stream<Path> walk = Files.walk(dir)) {
                walk.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            } catch (IOException e) {
                LOG.warn("could not delete {}: {}", dir, e.getMessage());
            }
        }
    }
}
