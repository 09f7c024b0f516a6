package org.laplacelora.streams.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/** Kafka's own in-process KRaft test cluster (one combined broker/controller), with small client helpers. */
final class KafkaCluster implements AutoCloseable {
    final KafkaClusterTestKit kit;

    KafkaCluster() throws Exception {
        this(Map.of());
    }

    /** @param broker broker settings on top of the ones here */
    KafkaCluster(Map<String, String> broker) throws Exception {
        KafkaClusterTestKit.Builder builder = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder().setCombined(true).setNumBrokerNodes(1)
                .setNumControllerNodes(1).build());
        broker.forEach(builder::setConfigProp);
        kit = builder
                .setConfigProp("offsets.topic.replication.factor", "1")
                .setConfigProp("offsets.topic.num.partitions", "1")
                .setConfigProp("transaction.state.log.replication.factor", "1")
                .setConfigProp("transaction.state.log.min.isr", "1")
                .setConfigProp("transaction.state.log.num.partitions", "1")
                .setConfigProp("group.initial.rebalance.delay.ms", "0")
                .build();
        kit.format();
        kit.startup();
        kit.waitForReadyBrokers();
    }

    String bootstrap() {
        return kit.bootstrapServers();
    }

    KafkaProducer<String, byte[]> producer() {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap()),
                new StringSerializer(), new ByteArraySerializer());
    }

    /** Reads committed records of a topic until {@code done} holds for what was read, or the timeout. */
    List<ConsumerRecord<String, byte[]>> readCommitted(String topic, Duration timeout, Predicate<List<ConsumerRecord<String, byte[]>>> done) {
        return readCommitted(bootstrap(), topic, timeout, done);
    }

    /** The same on any cluster (a `stack` process, say). */
    static List<ConsumerRecord<String, byte[]>> readCommitted(String bootstrap, String topic, Duration timeout,
                                                             Predicate<List<ConsumerRecord<String, byte[]>>> done) {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "it-reader-" + topic + "-" + System.nanoTime());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
            c.subscribe(List.of(topic));
            long end = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < end && !done.test(out)) {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }

    /** Polls {@code condition} until it holds, for at most a minute. */
    static void waitFor(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(50);
        }
    }

    @Override
    public void close() throws Exception {
        kit.close();
    }

    /** read_committed from the beginning until {@code n} distinct keys came, then all of it once more: late duplicates too. */
    static List<ConsumerRecord<String, byte[]>> readAllOnce(String bootstrap, String topic, int n, Duration timeout) {
        readCommitted(bootstrap, topic, timeout, r -> r.stream().map(ConsumerRecord::key).distinct().count() >= n);
        return readCommitted(bootstrap, topic, Duration.ofSeconds(5), r -> false);
    }

    static java.util.Set<String> keys(List<ConsumerRecord<String, byte[]>> records) {
        java.util.Set<String> ids = new java.util.HashSet<>();
        records.forEach(r -> ids.add(r.key()));
        return ids;
    }

    /** The keys seen more than once, once for each repeat. */
    static List<String> duplicates(List<ConsumerRecord<String, byte[]>> records) {
        java.util.Set<String> ids = new java.util.HashSet<>();
        return records.stream().map(ConsumerRecord::key).filter(k -> !ids.add(k)).toList();
    }
}
