package org.laplacelora.streams.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs one topology as a Kafka Streams application with exactly-once processing (v2). */
public final class StreamsRunner implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StreamsRunner.class);
    private final KafkaStreams streams;
    private final String name;

    private StreamsRunner(KafkaStreams streams, String name) {
        this.streams = streams;
        this.name = name;
    }

    /**
     * @param stateDir local state (restored from changelogs when missing or stale)
     * @param commitInterval how often transactions commit (outputs become visible to read_committed readers)
     */
    public static StreamsRunner start(Topology topology, KafkaSettings kafka, String applicationId, Path stateDir,
                                      Duration commitInterval) throws InterruptedException {
        return start(topology, kafka, applicationId, stateDir, commitInterval, java.util.Map.of());
    }

    /** @param overrides Streams and client settings of this application (they win over the defaults here) */
    public static StreamsRunner start(Topology topology, KafkaSettings kafka, String applicationId, Path stateDir,
                                      Duration commitInterval, java.util.Map<String, Object> overrides) throws InterruptedException {
        Properties p = new Properties();
        p.putAll(kafka.kafka());
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, (int) kafka.replicationFactor());
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, (int) commitInterval.toMillis());
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
        p.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
        p.putAll(overrides);
        KafkaStreams streams = new KafkaStreams(topology, p);
        CountDownLatch running = new CountDownLatch(1);
        streams.setStateListener((now, before) -> {
            LOG.info("{}: {} -> {}", applicationId, before, now);
            if (now == KafkaStreams.State.RUNNING) {
                running.countDown();
            }
        });
        streams.setUncaughtExceptionHandler(e -> {
            LOG.error("{}: stream thread failed; replacing it", applicationId, e);
            return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
        });
        streams.start();
        if (!running.await(120, TimeUnit.SECONDS)) {
            streams.close(Duration.ofSeconds(5));
            throw new IllegalStateException(applicationId + " did not reach RUNNING within 120 s (state " + streams.state() + ")");
        }
        return new StreamsRunner(streams, applicationId);
    }

    public KafkaStreams streams() {
        return streams;
    }

    @Override
    public void close() {
        streams.close(Duration.ofSeconds(30));
        LOG.info("{} closed", name);
    }
}
