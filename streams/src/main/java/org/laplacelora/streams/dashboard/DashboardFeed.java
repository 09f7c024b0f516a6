package org.laplacelora.streams.dashboard;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.laplacelora.schemas.avro.CalibrationMetrics;
import org.laplacelora.schemas.avro.DriftEvent;
import org.laplacelora.schemas.avro.PosteriorManifest;
import org.laplacelora.schemas.avro.Prediction;
import org.laplacelora.schemas.avro.RefitReport;
import org.laplacelora.streams.kafka.Backoff;
import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.kafka.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the dashboard's topics from their beginning (assigned partitions, no committed offsets, so a restarted
 * dashboard has its history) and then follows them, read_committed, handing each record to the page as an
 * event. Predictions are many, so they are counted per second and posterior version instead.
 */
final class DashboardFeed implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(DashboardFeed.class);

    private final KafkaConsumer<String, byte[]> consumer;
    private final Topics topics;
    private final Consumer<ObjectNode> sink;
    private final AtomicBoolean caughtUp = new AtomicBoolean();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final TreeMap<Long, Map<Long, Long>> predictionsPerSecond = new TreeMap<>();
    private Map<TopicPartition, Long> endAtStart;

    DashboardFeed(KafkaSettings kafka, String groupId, Consumer<ObjectNode> sink) {
        Map<String, Object> props = kafka.kafka();
        props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);   // named for ACLs and quotas; it never commits
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        this.consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
        this.topics = kafka.topics();
        this.sink = sink;
    }

    List<String> topicNames() {
        return List.of(topics.calibrationMetrics().name(), topics.driftEvents().name(), topics.refitReports().name(),
                topics.posteriors().name(), topics.predictions().name());
    }

    /** Whether everything that was in the topics when the dashboard started has been read. */
    boolean caughtUp() {
        return caughtUp.get();
    }

    @Override
    public void run() {
        try {
            List<TopicPartition> partitions = partitions();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            endAtStart = consumer.endOffsets(partitions);
            while (running.get()) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    for (int attempt = 0; running.get() && !handled(r); attempt++) {
                        Thread.sleep(Backoff.millis(attempt));   // the registry out of reach: wait, then the same record
                    }
                }
                flushPredictions();
                if (!caughtUp.get() && endAtStart.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue())) {
                    caughtUp.set(true);
                    sink.accept(DashboardEvents.JSON.createObjectNode().put("type", "caughtUp"));
                }
            }
        } catch (WakeupException | InterruptedException e) {
            // closing
        } catch (RuntimeException e) {
            LOG.error("the dashboard stopped reading its topics: {}", e.toString(), e);
        } finally {
            // An interrupt that ended a wait must not cut the close short (Kafka would throw it out of close).
            boolean interrupted = Thread.interrupted();
            try {
                consumer.close(Duration.ofSeconds(5));
            } catch (InterruptException e) {
                interrupted = true;   // interrupted while closing (a wait outlived the app's grace): closed all the same
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Every partition of the dashboard's topics, once each of them exists (the dashboard never creates a topic). */
    private List<TopicPartition> partitions() throws InterruptedException {
        while (running.get()) {
            List<TopicPartition> partitions = new ArrayList<>();
            List<String> missing = new ArrayList<>();
            for (String t : topicNames()) {
                List<org.apache.kafka.common.PartitionInfo> info = consumer.partitionsFor(t, Duration.ofSeconds(30));
                if (info == null || info.isEmpty()) {
                    missing.add(t);
                } else {
                    info.forEach(p -> partitions.add(new TopicPartition(t, p.partition())));
                }
            }
            if (missing.isEmpty()) {
                return partitions;
            }
            LOG.warn("the dashboard waits for topics {} (create them with ./laplace-lora topics)", missing);
            Thread.sleep(5000);
        }
        throw new InterruptedException("closing");
    }

    /** Hands a record to the page; false when the registry could not be asked (try again later). */
    private boolean handled(ConsumerRecord<String, byte[]> r) {
        try {
            handle(r);
            return true;
        } catch (RetriableException e) {
            LOG.warn("the dashboard waits for the schema registry: {}", e.getMessage());
            return false;
        }
    }

    private void handle(ConsumerRecord<String, byte[]> r) {
        if (r.value() == null) {
            return; // a tombstone: an old posterior version compacted away
        }
        try {
            String t = r.topic();
            if (t.equals(topics.calibrationMetrics().name())) {
                CalibrationMetrics m = topics.calibrationMetrics().deserialize(r.value());
                if (!"version".equals(m.getScope())) {
                    sink.accept(DashboardEvents.metrics(m));
                }
            } else if (t.equals(topics.driftEvents().name())) {
                sink.accept(DashboardEvents.drift(topics.driftEvents().deserialize(r.value())));
            } else if (t.equals(topics.refitReports().name())) {
                sink.accept(DashboardEvents.refit(topics.refitReports().deserialize(r.value())));
            } else if (t.equals(topics.posteriors().name())) {
                if (topics.posteriors().deserialize(r.value()) instanceof PosteriorManifest m) {
                    sink.accept(DashboardEvents.posterior(m));
                }
            } else {
                Prediction p = topics.predictions().deserialize(r.value());
                long second = p.getScoredAt().toEpochMilli() / 1000 * 1000;
                predictionsPerSecond.computeIfAbsent(second, s -> new TreeMap<>()).merge(p.getPosteriorVersion(), 1L, Long::sum);
            }
        } catch (SerializationException | ClassCastException e) {
            LOG.warn("skipping an undecodable record at {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
        }
    }

    /** Sends the counts of the seconds that are over (2 s of slack for a partition that lags). */
    private void flushPredictions() {
        long over = System.currentTimeMillis() - 2000;
        while (!predictionsPerSecond.isEmpty() && predictionsPerSecond.firstKey() < over) {
            Map.Entry<Long, Map<Long, Long>> e = predictionsPerSecond.pollFirstEntry();
            sink.accept(DashboardEvents.predictions(e.getKey(), e.getValue()));
        }
    }

    void stop() {
        running.set(false);
        consumer.wakeup();
    }
}
