package org.laplacelora.streams.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.laplacelora.schemas.avro.Question;
import org.laplacelora.schemas.registry.HttpSchemaRegistry;
import org.laplacelora.schemas.registry.RegistryConfig;

/** {@code ./laplace-lora stack} as its own process, stopped the way an operator stops it (SIGTERM) and started again. */
class StackIT {
    private static final Duration START = Duration.ofSeconds(90);

    @Test
    void brokerAndRegistryKeepTheirDataAcrossARestartWithTheSameDataDir(@TempDir Path data) throws Exception {
        String bootstrap;
        String registryUrl;
        int id;
        try (ChildJvm stack = new ChildJvm("stack", "--kafka-port", "0", "--registry-port", "0", "--data-dir", data.toString())) {
            bootstrap = address(stack.awaitLine(l -> l.startsWith("kafka "), START));
            registryUrl = address(stack.awaitLine(l -> l.startsWith("schema-registry "), START));
            stack.awaitLine(l -> l.startsWith("ready"), START);
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                admin.createTopics(List.of(new NewTopic("kept", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }
            try (KafkaProducer<String, String> p = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
                    new StringSerializer(), new StringSerializer())) {
                p.send(new ProducerRecord<>("kept", "k", "before the restart")).get(30, TimeUnit.SECONDS);
            }
            id = new HttpSchemaRegistry(RegistryConfig.of(registryUrl)).register("questions-value", Question.getClassSchema());
            assertThat(stack.terminate(Duration.ofSeconds(60))).as("SIGTERM: the shutdown hook stops both cleanly").isIn(0, 143);
        }
        try (ChildJvm again = new ChildJvm("stack", "--kafka-port", "0", "--registry-port", "0", "--data-dir", data.toString())) {
            String bootstrap2 = address(again.awaitLine(l -> l.startsWith("kafka "), START));
            String registry2 = address(again.awaitLine(l -> l.startsWith("schema-registry "), START));
            again.awaitLine(l -> l.startsWith("ready"), START);
            assertThat(read(bootstrap2, "kept")).containsExactly("before the restart");
            Schema kept = new HttpSchemaRegistry(RegistryConfig.of(registry2)).byId(id);
            assertThat(kept).isEqualTo(Question.getClassSchema());
            assertThat(again.terminate(Duration.ofSeconds(60))).isIn(0, 143);
        }
    }

    @Test
    void theRegistryRunsApartAndStopsAloneWhileTheBrokerServes(@TempDir Path data) throws Exception {
        try (ChildJvm broker = new ChildJvm("stack", "--broker-only", "--kafka-port", "0");
             ChildJvm registry = new ChildJvm("stack", "--registry-only", "--registry-port", "0")) {
            String bootstrap = address(broker.awaitLine(l -> l.startsWith("kafka "), START));
            String url = address(registry.awaitLine(l -> l.startsWith("schema-registry "), START));
            assertThat(broker.output()).doesNotContain("schema-registry ");
            new HttpSchemaRegistry(RegistryConfig.of(url)).register("questions-value", Question.getClassSchema());
            registry.kill();
            assertThatThrownBy(() -> new HttpSchemaRegistry(RegistryConfig.of(url)).subjects()).isInstanceOf(IOException.class);
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                assertThat(admin.describeCluster().nodes().get(30, TimeUnit.SECONDS)).as("the broker still serves").hasSize(1);
            }
        }
    }

    @Test
    void aPortInUseFailsWithOneErrorNamingIt() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"));
             ChildJvm stack = new ChildJvm("stack", "--registry-only", "--registry-port", String.valueOf(taken.getLocalPort()))) {
            String error = stack.awaitLine(l -> l.startsWith("error:"), START);
            assertThat(error).contains("port " + taken.getLocalPort()).contains("--registry-port");
            assertThat(stack.terminate(Duration.ofSeconds(30))).isEqualTo(1);
        }
    }

    private static String address(String line) {
        return line.substring(line.indexOf(' ') + 1).trim();
    }

    private static List<String> read(String bootstrap, String topic) {
        return KafkaCluster.readCommitted(bootstrap, topic, Duration.ofSeconds(60), r -> !r.isEmpty()).stream()
                .map(r -> new String(r.value(), java.nio.charset.StandardCharsets.UTF_8)).toList();
    }
}
