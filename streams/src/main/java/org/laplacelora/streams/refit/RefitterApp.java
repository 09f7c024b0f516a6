package org.laplacelora.streams.refit;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.posteriors.PosteriorWatcher;
import org.laplacelora.streams.posteriors.ServedModel;
import org.laplacelora.streams.posteriors.ServingApp;

/** The refitter service: the refitter and its topology as a Kafka Streams application, on the newest posterior version. */
public final class RefitterApp extends ServingApp {
    /**
     * A refit runs on the stream thread, inside the transaction that publishes it: allow it minutes (the
     * broker's default ceiling for a transaction is 15).
     */
    private static final Map<String, Object> LONG_REFITS = Map.of(
            StreamsConfig.consumerPrefix(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG), (int) Duration.ofMinutes(30).toMillis(),
            StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG), (int) Duration.ofMinutes(15).toMillis());
    private static final Duration COMMIT_INTERVAL = Duration.ofMillis(100);

    private RefitterApp(KafkaSettings kafka, PosteriorWatcher watcher, Refitter refitter, RefitterSettings settings, String applicationId,
                        Path stateDir) throws InterruptedException {
        super(kafka, watcher, RefitterTopology.build(kafka.topics(), refitter, settings), applicationId, stateDir, COMMIT_INTERVAL,
                LONG_REFITS);
    }

    /** @param served model, adapter and starting posterior (version 0); the app keeps it on the newest version */
    public static RefitterApp start(KafkaSettings kafka, ServedModel served, RefitterSettings settings, String applicationId,
                                    Path stateDir) throws IOException, InterruptedException {
        PosteriorWatcher watcher = new PosteriorWatcher(kafka, served, applicationId);
        Refitter refitter = new Refitter(served, watcher);   // before the watcher runs: version 0 is the starting file
        return new RefitterApp(kafka, watcher, refitter, settings, applicationId, stateDir);
    }
}
