package org.laplacelora.streams.posteriors;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.streams.Topology;
import io.micrometer.core.instrument.Gauge;
import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.kafka.StreamsRunner;
import org.laplacelora.streams.telemetry.Telemetry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Kafka Streams application whose model follows the posteriors topic: its watcher reads the topic to its
 * end (and serves the newest valid version) before the application starts, then keeps following it.
 */
public class ServingApp implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ServingApp.class);
    private static final Duration CATCH_UP = Duration.ofSeconds(60);

    private final PosteriorWatcher watcher;
    private final StreamsRunner streams;
    private Gauge version;

    /**
     * Starts the watcher, waits for it to catch up, then starts the application.
     *
     * @param watcher not started yet
     * @param overrides Streams and client settings of this application
     */
    protected ServingApp(String service, KafkaSettings kafka, PosteriorWatcher watcher, Topology topology, String applicationId,
                         Path stateDir, Duration commitInterval, Map<String, Object> overrides) throws InterruptedException {
        this.watcher = watcher.start();
        try {
            if (!watcher.awaitCaughtUp(CATCH_UP)) {
                LOG.warn("{} not read to its end within {} s; {} starts on version {}", kafka.topicNames().posteriors(),
                        CATCH_UP.toSeconds(), applicationId, watcher.getServingVersion());
            }
            this.streams = StreamsRunner.start(topology, kafka, applicationId, stateDir, commitInterval, overrides);
            streams.bindMeters(service);
            version = Gauge.builder(Telemetry.PREFIX + "posterior_version", watcher, PosteriorWatcher::getServingVersion)
                    .tag("service", service).description("The posterior version in use").register(Telemetry.registry());
        } catch (RuntimeException | InterruptedException e) {
            watcher.close();
            throw e;
        }
    }

    /** Ready: the app is RUNNING. */
    public boolean ready() {
        return streams.running();
    }

    public PosteriorWatcher watcher() {
        return watcher;
    }

    /** Runs until Ctrl-C, or until the app stops on a failure (thrown). */
    public void awaitStop() throws InterruptedException {
        streams.awaitStop();
    }

    @Override
    public void close() throws InterruptedException {
        Telemetry.registry().remove(version);
        streams.close();
        watcher.close();
    }
}
