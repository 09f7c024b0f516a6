package org.laplacelora.streams.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.ContextualProcessor;
import org.apache.kafka.streams.processor.api.Record;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.kafka.StreamsRunner;

/**
 * What {@link StreamsRunner} does when a record makes a stream thread fail, on a real cluster with exactly-once
 * transactions: a failure of the moment is retried by a new thread and gets past; one that happens every time at
 * the same record stops the app with one error naming the record, instead of replacing the thread forever.
 */
class FailurePolicyIT {
    private static KafkaCluster cluster;
    private static KafkaSettings kafka;
    /**
     * A replaced thread's consumer does not leave its group (Streams' default), so the new one waits out the old one's
     * session: the broker's minimum here rather than Streams' 45 s, to keep the test short.
     */
    private static final Map<String, Object> QUICK_REJOIN = Map.of(
            org.apache.kafka.streams.StreamsConfig.consumerPrefix("session.timeout.ms"), 6000,
            org.apache.kafka.streams.StreamsConfig.consumerPrefix("heartbeat.interval.ms"), 1000);

    @BeforeAll
    static void setUp() throws Exception {
        cluster = new KafkaCluster();
        kafka = KafkaSettings.of(cluster.bootstrap(), "http://127.0.0.1:1", null, (short) 1);
    }

    @AfterAll
    static void tearDown() throws Exception {
        cluster.close();
    }

    /** Passes each value on, failing at {@code "poison"} as long as {@code failures} says so. */
    private static Topology topology(String in, String out, AtomicInteger failures) {
        Topology t = new Topology();
        t.addSource("in", Serdes.String().deserializer(), Serdes.String().deserializer(), in);
        t.addProcessor("copy", () -> new ContextualProcessor<String, String, String, String>() {
            @Override
            public void process(Record<String, String> r) {
                if (r.value().equals("poison") && failures.getAndDecrement() > 0) {
                    throw new IllegalArgumentException("cannot digest " + r.value());
                }
                context().forward(r);
            }
        }, "in");
        t.addSink("out", out, Serdes.String().serializer(), Serdes.String().serializer(), "copy");
        return t;
    }

    private static void publish(String topic, String... values) throws Exception {
        try (var admin = org.apache.kafka.clients.admin.Admin.create(Map.of("bootstrap.servers", cluster.bootstrap()))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1), new NewTopic(topic + "-out", 1, (short) 1))).all()
                    .get(30, TimeUnit.SECONDS);
        }
        try (KafkaProducer<String, byte[]> p = cluster.producer()) {
            for (String v : values) {
                p.send(new ProducerRecord<>(topic, "k", v.getBytes(java.nio.charset.StandardCharsets.UTF_8))).get();
            }
        }
    }

    @Test
    void aFailureThatHappensEveryTimeStopsTheAppWithOneErrorNamingTheRecord(@TempDir Path state) throws Exception {
        publish("always", "fine", "poison", "never reached");
        try (StreamsRunner app = StreamsRunner.start(topology("always", "always-out", new AtomicInteger(Integer.MAX_VALUE)), kafka,
                "failure-always", state, Duration.ofMillis(100), QUICK_REJOIN)) {
            assertThatThrownBy(app::awaitStop).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("the same failure " + 3 + " times in a row")
                    .hasMessageContaining("topic=always").hasMessageContaining("partition=0").hasMessageContaining("offset=1")
                    .hasMessageContaining("cannot digest poison");
        }
        List<ConsumerRecord<String, byte[]>> out = cluster.readCommitted("always-out", Duration.ofSeconds(5), r -> false);
        assertThat(out).as("nothing after the poison is committed, and what came before only once").hasSizeLessThanOrEqualTo(1);
    }

    @Test
    void aFailureOfTheMomentIsRetriedByANewThreadAndGetsPast(@TempDir Path state) throws Exception {
        publish("once", "fine", "poison", "after");
        try (StreamsRunner app = StreamsRunner.start(topology("once", "once-out", new AtomicInteger(1)), kafka, "failure-once", state,
                Duration.ofMillis(100), QUICK_REJOIN)) {
            List<ConsumerRecord<String, byte[]>> out = cluster.readCommitted("once-out", Duration.ofSeconds(60), r -> r.size() >= 3);
            assertThat(out).extracting(r -> new String(r.value(), java.nio.charset.StandardCharsets.UTF_8))
                    .containsExactly("fine", "poison", "after");
            assertThat(app.failure()).isNull();
        }
    }
}
